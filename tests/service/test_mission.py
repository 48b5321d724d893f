"""The mission's shape, end to end on the simulator: reads through the mount while a burn runs.

Mounted; `robot burn --segments` of new discs running in another process; 16 readers read
files spread over 5+ discs that are in no drive. Every byte is right, reads are served
while the burn runs, the burn finishes, and the new discs' files read through the mount
without a remount. Everything goes through one archive service.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from odarchive.cli import main
from tests.lib.mount_process import Mounted
from tests.lib.trees import disc_ids


def _files(root: Path, prefix: str, count: int, seed: int) -> dict[str, bytes]:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    out = {}
    for n in range(count):
        data = rng.randbytes(rng.randrange(150_000, 300_000))
        (root / f"{prefix}{n:03d}.bin").write_bytes(data)
        out[f"{prefix}{n:03d}.bin"] = data
    return out


@pytest.mark.slow
def test_reads_through_the_mount_are_served_while_new_discs_burn(tmp_path: Path) -> None:
    src, home = tmp_path / "src", tmp_path / "home"
    home.mkdir()
    (home / "odarchive.toml").write_text(
        '[robot.simulator]\nspeed = 200\nwrite_bytes_per_s = 2000.0\nidle_exit_s = 120\n[service]\nlisten = ""\n'
    )
    h = ["--home", str(home)]
    old = _files(src, "old", 24, 1)
    assert main([*h, "create_db", str(src)]) == 0
    assert main([*h, "plan_iso", "1200k"]) == 0
    assert main([*h, "robot", "burn", "--segments", "all"]) == 0
    old_discs = disc_ids(home)
    assert len(old_discs) >= 5
    new = _files(src, "new", 6, 2)
    assert main([*h, "create_db", str(src)]) == 0
    assert main([*h, "plan_iso", "1200k"]) == 0
    new_discs = [d for d in disc_ids(home) if d > old_discs[-1]]
    assert new_discs
    try:
        with Mounted(home, tmp_path / "mnt", "--cache-dir", str(tmp_path / "cache"), "--disc-timeout", "120s") as m:
            burn = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "odarchive",
                    *h,
                    "robot",
                    "burn",
                    "--segments",
                    f"{new_discs[0]}-{new_discs[-1]}",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            root = m.mountpoint / "src"

            def read(name: str) -> tuple[str, bool, float]:
                t0 = time.monotonic()
                assert (root / name).read_bytes() == old[name], name  # every byte right
                return name, burn.poll() is None, time.monotonic() - t0

            with ThreadPoolExecutor(16) as pool:
                results = list(pool.map(read, sorted(old)))
            assert all(ok for _, ok, _ in results), "a file read back wrong"
            assert any(running for _, running, _ in results), "no read was served while the burn ran"
            _, err = burn.communicate(timeout=600)
            assert burn.returncode == 0, err.decode(errors="replace")
            deadline = time.monotonic() + 30  # the mount sees the new snapshot without a remount
            while not (root / "new000.bin").exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            for name, data in new.items():
                assert (root / name).read_bytes() == data
    finally:
        main([*h, "robot", "simulate", "--stop"])
    assert not os.path.exists(home / "service.sock")
