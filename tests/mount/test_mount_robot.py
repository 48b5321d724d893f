"""The mount on the simulated robot: the main job end to end, then faults.

create_db -> plan_iso -> robot burn (the simulator over its pseudo-terminal) -> mount with the
default disc source (the robot) -> read. A jammed picker and a changer that stops answering
give EIO for the reads that need a disc, within the disc timeout, naming the disc in the log,
while cached reads, stat and listing go on.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from odarchive.cli import main
from tests.lib.mount_archive import make_tree
from tests.lib.mount_process import Mounted
from tests.lib.trees import discs_holding
from tests.lib.waiting import wait_until


@pytest.fixture(scope="module")
def burned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    tmp = tmp_path_factory.mktemp("robot")
    src, home = tmp / "src", tmp / "home"
    src.mkdir()
    home.mkdir()
    make_tree(src)
    (home / "odarchive.toml").write_text(
        "[robot.simulator]\nspeed = 200\n[robot]\nreply_timeout_s = 0.5\nretries = 1\n"
    )
    h = ["--home", str(home)]
    assert main([*h, "create_db", str(src)]) == 0
    assert main([*h, "plan_iso", "1200k"]) == 0
    assert main([*h, "robot", "burn", "--segments", "all"]) == 0
    yield home, src
    main([*h, "serve", "--stop", "--force"])
    main([*h, "robot", "simulate", "--stop"])


def disc_of(home: Path, src: Path, rel: str) -> int:
    (disc,) = discs_holding(home / "catalogue.sqlite", hashlib.sha256((src / rel).read_bytes()).digest())
    return disc


def photos_by_disc(home: Path, src: Path) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for p in sorted((src / "photos").iterdir()):
        out.setdefault(disc_of(home, src, f"photos/{p.name}"), []).append(f"photos/{p.name}")
    return out


def test_main_job_ends_with_a_file_read_through_the_mount(burned: tuple[Path, Path], tmp_path: Path) -> None:
    home, src = burned
    with Mounted(home, tmp_path / "mnt", "--cache-dir", str(tmp_path / "cache")) as m:
        for rel in ("hello.txt", "big.bin", "photos/img010.jpg"):
            assert (m.mountpoint / "src" / rel).read_bytes() == (src / rel).read_bytes()
        status = m.status(lambda r: r["disc_loads"] >= 1)
        assert status["source"]["kind"] == "service"  # leases from the archive service


def _read_errno(path: Path) -> tuple[int, float]:
    start = time.monotonic()
    try:
        path.read_bytes()
    except OSError as e:
        return e.errno or 0, time.monotonic() - start
    return 0, time.monotonic() - start


def _empty_drives(h: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Put every disc in a drive back in its slot. A drive stays leased for a moment after the
    mount that read from it ends (and a mount keeps a drive on its disc for `gather_s`), so an
    unload refused as leased is tried again until the drive is free."""

    def loaded() -> list[int]:
        capsys.readouterr()
        assert main([*h, "robot", "status", "--json"]) == 0
        return [d["drive"] for d in json.loads(capsys.readouterr().out)["drives"] if d["state"] != "empty"]

    def unloaded() -> bool:
        for drive in loaded():
            main([*h, "robot", "unload", "--drive", str(drive)])
        return not loaded()

    wait_until(unloaded, "every drive to be unloaded", timeout_s=20.0, every_s=0.25)


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["jam", "drop 50"])
def test_robot_fault_gives_eio_within_the_timeout_while_cached_reads_go_on(
    burned: tuple[Path, Path], tmp_path: Path, fault: str, capsys: pytest.CaptureFixture[str]
) -> None:
    home, src = burned
    h = ["--home", str(home)]
    by_disc = photos_by_disc(home, src)
    discs = sorted(by_disc)
    cached, victim = by_disc[discs[0]][0], by_disc[discs[-1]][0]
    _empty_drives(h, capsys)  # the victim's disc must need the robot, whatever an earlier case left loaded
    try:
        with Mounted(home, tmp_path / "mnt", "--cache-dir", str(tmp_path / "cache"), "--disc-timeout", "1.5") as m:
            root = m.mountpoint / "src"
            assert (root / cached).read_bytes() == (src / cached).read_bytes()
            assert main([*h, "robot", "simulate", "--fault", fault]) == 0
            outcome: dict[str, tuple[int, float]] = {}
            t = threading.Thread(target=lambda: outcome.update(victim=_read_errno(root / victim)))
            t.start()
            m.status(
                lambda r: r.get("waiting_by_disc") or not t.is_alive()
            )  # the read waits for its disc (or failed already)
            while t.is_alive():  # during the fault, cached reads and metadata are served at once
                t0 = time.monotonic()
                assert (root / cached).read_bytes() == (src / cached).read_bytes()
                assert os.stat(root / victim).st_size == (src / victim).stat().st_size
                assert len(os.listdir(root / "photos")) == len(os.listdir(src / "photos"))
                assert time.monotonic() - t0 < 0.5
                time.sleep(0.05)
            code, elapsed = outcome["victim"]
            assert code == errno.EIO
            assert elapsed < 1.5 + 1.0
            log = (home / "logs" / "mount.log").read_text()
            assert f"ODARCHIVE_{discs[-1]:04d}" in log
            # cleared while mounted (the service owns the robot, the mount is its client): the disc reads again
            assert main([*h, "robot", "simulate", "--fault", "clear"]) == 0
            assert main([*h, "robot", "reset"]) == 0

            def reads_again() -> bool:  # once the mount's fault hold ([mount] fault_hold_s, 10 s) is over
                try:
                    return (root / victim).read_bytes() == (src / victim).read_bytes()
                except OSError:
                    return False

            if fault == "jam":  # the fault: a jam while mounted could not be cleared
                wait_until(reads_again, "the disc to read again after robot reset", timeout_s=30.0, every_s=0.5)
    finally:
        assert main([*h, "robot", "simulate", "--fault", "clear"]) == 0
        assert main([*h, "robot", "reset"]) == 0
