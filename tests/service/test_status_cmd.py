"""`odarchive status [--json]` with a running service: its snapshot, read from the socket."""

from __future__ import annotations

from pathlib import Path

from odarchive.jobs import JobReporter
from odarchive.progress import NullReporter
from tests.lib.service_home import make_home, running_service


def test_status_reads_the_service_and_keeps_the_job_records(tmp_path: Path, cli, home) -> None:
    make_home(home)
    with running_service(home) as client:
        pid = client.status()["service"]["pid"]
        scan = JobReporter(home / "jobs", "scan", "create_db", NullReporter(), source="/data")
        scan.start("hash", total_items=4)
        r = cli("status")
        assert r.code == 0, r.err
        assert f"service (pid {pid}) on {home}" in r.out and "page http://127.0.0.1:" in r.out
        assert "changer simulator: 600 slots: 600 blank" in r.out
        assert "drive 0: idle" in r.out and "drive 1: idle" in r.out and "queue: nothing waits" in r.out
        assert "scan (create_db" in r.out  # a command running beside the service is still shown
        j = cli("status", "--json").json()
        assert j["service"]["service"]["pid"] == pid and len(j["service"]["changer"]["slots"]) == 600
        assert [job["job"] for job in j["jobs"]] == ["scan"]
        scan.close()
    r = cli("status", "--json").json()
    assert r["service"] is None and r["jobs"] == []  # no service: the records alone, as before


def test_a_mount_killed_with_9_is_not_shown_mounted(tmp_path: Path, cli, home) -> None:
    """The issue's fault: after kill -9 of the mount, status still said "mounted"."""
    import json
    import subprocess
    import sys

    make_home(home)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (home / "jobs").mkdir(exist_ok=True)
    (home / "jobs" / "mount-dead.json").write_text(
        json.dumps(
            {
                "job": "mount-dead",
                "command": "mount",
                "pid": int(dead.stdout),
                "updated": 0,
                "phase": "mounted",
                "mountpoint": str(tmp_path / "mnt"),
                "disc_loads": 3,
            }
        )
    )
    with running_service(home):
        j = cli("status", "--json").json()
        assert j["service"]["mounts"] == []  # the service lists live mounts only
        text = cli("status").out
        assert "died during phase mounted" in text and "disc loads" not in text
