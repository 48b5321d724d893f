"""A scan killed with SIGKILL mid-way, continued by the next run, gives exactly the catalogue
of an uninterrupted scan, without hashing again what was finished."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue, browse
from odarchive.catalogue.scanning import ScanRows
from odarchive.errors import OdarchiveError
from tests.lib.trees import snapshot_listing, write

REPO = Path(__file__).resolve().parents[2]


def odarchive(home: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "odarchive", "--home", str(home), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )


def poll(home: Path) -> dict[str, int]:
    """What a scan (perhaps still running) has written: entry rows, files hashed in the running
    snapshot, snapshots, and those running and walking; all 0 while there is no catalogue yet."""
    counts = {"entries": 0, "hashed": 0, "snapshots": 0, "running": 0, "walking": 0}
    try:
        with Catalogue.open(home / "catalogue.sqlite", readonly=True) as cat:
            snaps = cat.snapshots()
            counts["entries"] = browse.totals(cat.conn)[1]
            counts["snapshots"] = len(snaps)
            counts["running"] = sum(s.state == "running" for s in snaps)
            counts["walking"] = sum(s.phase == "walk" for s in snaps)
            for s in snaps:
                if s.state == "running":
                    rows = ScanRows(cat.conn, s.source_id, s.id, None)
                    counts["hashed"] += rows.summary()[1] - rows.pending()[0]
    except (sqlite3.Error, OdarchiveError):
        pass
    return counts


def kill_when(proc: subprocess.Popen, home: Path, what: str, at_least: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while poll(home)[what] < at_least:
        assert proc.poll() is None, f"scan ended before it could be interrupted: {proc.stderr.read().decode()}"
        assert time.monotonic() < deadline, "scan made no progress"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("tree") / "src"
    for i in range(45000):  # more than one walk batch (20,000 rows), so a kill lands mid-walk
        write(src / f"dir{i % 40:02d}" / f"small{i:05d}.txt", f"small file {i}\n".encode())
    for i in range(3):
        with open(src / f"big{i:02d}.img", "wb") as f:
            f.truncate(64 * 1024 * 1024)
            f.write(f"header {i}".encode())
    return src


@pytest.fixture(scope="module")
def reference(tree, tmp_path_factory) -> list[tuple]:
    home = tmp_path_factory.mktemp("reference")
    proc = odarchive(home, "create_db", str(tree), "--jobs", "1")
    assert proc.wait() == 0
    return snapshot_listing(home)


@pytest.mark.slow
def test_kill_during_hash_then_continue(tree, reference, tmp_path):
    home = tmp_path / "home"
    proc = odarchive(home, "create_db", str(tree), "--jobs", "1")
    kill_when(proc, home, "hashed", 1)
    hashed_before = poll(home)["hashed"]
    assert poll(home)["running"] == 1

    status = odarchive(home, "status", "--json")
    out, _ = status.communicate()
    jobs = json.loads(out)["jobs"]
    assert [j["state"] for j in jobs] == ["died"]

    again = odarchive(home, "create_db", str(tree), "--jobs", "1", "--json")
    out, err = again.communicate()
    assert again.returncode == 0, err.decode()
    summary = json.loads(out)
    assert summary["resumed"] is True
    assert summary["hashed_files"] == 45003 - hashed_before  # nothing finished is hashed again
    assert snapshot_listing(home) == reference
    assert poll(home)["snapshots"] == 1


@pytest.mark.slow
def test_kill_during_walk_then_continue(tree, reference, tmp_path):
    home = tmp_path / "home"
    proc = odarchive(home, "create_db", str(tree), "--jobs", "1")
    kill_when(proc, home, "entries", 1)
    assert poll(home)["walking"] == 1
    again = odarchive(home, "create_db", str(tree), "--jobs", "1")
    assert again.wait() == 0
    assert snapshot_listing(home) == reference
    # no duplicate rows from walking twice
    assert poll(home)["entries"] == len(reference)


@pytest.mark.slow
def test_kill_while_small_files_are_hashed_then_continue(tree, reference, tmp_path):
    """The default path: small files hashed during the walk in batches, rows written as each
    batch is hashed; a kill between leaves no directory marked as done too early."""
    home = tmp_path / "home"
    proc = odarchive(home, "create_db", str(tree), "--jobs", "2")
    kill_when(proc, home, "hashed", 2000)
    again = odarchive(home, "create_db", str(tree), "--jobs", "2", "--json")
    out, err = again.communicate()
    assert again.returncode == 0, err.decode()
    assert json.loads(out)["resumed"] is True
    assert snapshot_listing(home) == reference
    assert poll(home)["entries"] == len(reference)
