"""README's first command: `odarchive demo` runs the main job end to end on the sample data and
the simulated robot and leaves the archive mounted, every file reading back as the sample."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def odarchive(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "odarchive", *argv],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO), ODARCHIVE_SIM_SPEED="1000"),
        timeout=600,
    )


@pytest.mark.slow
def test_demo_runs_the_main_job_and_leaves_the_archive_mounted(tmp_path):
    work = tmp_path / "demo"
    home, mnt = work / "home", work / "mnt"
    try:
        r = odarchive("demo", str(work))
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        for step in ("create_db", "plan_iso", "create_iso", "verify", "robot burn", "restore", "mount"):
            assert f"$ odarchive --home {home} {step}" in r.stdout
        assert "# identical" in r.stdout
        assert mnt.is_mount()
        sample = work / "sample"
        for path in sorted(sample.rglob("*")):
            if path.is_file() and not path.is_symlink():
                through = mnt / "family" / path.relative_to(sample)
                assert hashlib.sha256(through.read_bytes()).digest() == hashlib.sha256(path.read_bytes()).digest()
        # and a second run on the same directory starts over cleanly
        again = odarchive("demo", str(work))
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    finally:
        if mnt.is_mount():
            odarchive("--home", str(home), "umount", str(mnt))
        odarchive("--home", str(home), "robot", "simulate", "--stop")
    assert not mnt.is_mount()
