"""`odarchive status`: running, died and failed jobs; one scan at a time per home."""

from __future__ import annotations

import json

from odarchive.jobs import JobReporter, exclusive
from odarchive.progress import NullReporter
from tests.lib.pids import dead_pid
from tests.lib.trees import write


def test_nothing_running(cli, home):
    r = cli("status")
    assert r.code == 0 and "nothing is running" in r.out
    assert cli("status", "--json").json()["jobs"] == []


def test_running_job_shows_phase_counts_rate_and_eta(cli, home):
    rep = JobReporter(home / "jobs", "scan", "create_db", NullReporter(), source="/data")
    rep.start("hash", total_items=10, total_bytes=1000)
    rep.advance(items=5, nbytes=500)
    rep.finish()
    (job,) = cli("status", "--json").json()["jobs"]
    assert job["state"] == "running" and job["phase"] == "hash"
    assert (job["items"], job["bytes"], job["total_bytes"]) == (5, 500, 1000)
    assert job["eta_s"] is not None and job["source"] == "/data"
    text = cli("status").out
    assert "scan (create_db" in text and "hash: 5 items" in text and "ETA" in text
    rep.close()
    assert cli("status", "--json").json()["jobs"] == []


def test_a_job_whose_process_died_is_reported(cli, home):
    (home / "jobs").mkdir()
    record = {"job": "scan", "command": "create_db", "pid": dead_pid(), "updated": 0, "phase": "walk"}
    (home / "jobs" / "scan.json").write_text(json.dumps(record))
    (job,) = cli("status", "--json").json()["jobs"]
    assert job["state"] == "died"
    assert "died during phase walk" in cli("status").out and "again to continue" in cli("status").out


def test_failed_scan_leaves_a_failed_record(cli, home, tmp_path, monkeypatch):
    src = tmp_path / "src"
    write(src / "a", b"a")
    import odarchive.scan.scanner as scanner

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(scanner.Hasher, "run", boom)
    r = cli("create_db", str(src))
    assert r.code != 0
    (job,) = cli("status", "--json").json()["jobs"]
    assert job["state"] in ("failed", "running")  # this process is still alive: the pid is ours
    assert job["phase"] == "failed" and "No space left" in job["error"]


def test_second_scan_on_the_same_home_is_refused(cli, home, tmp_path):
    src = tmp_path / "src"
    write(src / "a", b"a")
    cli("get_info")  # nothing yet
    with exclusive(home / "jobs", "scan", "a scan"):
        # flock locks are per open file description: a second open in this process conflicts too
        r = cli("create_db", str(src))
    assert r.code != 0 and "already running" in r.err
    assert cli("create_db", str(src)).code == 0


def test_robot_burn_and_create_iso_never_build_images_at_once(cli, home):
    with exclusive(home / "jobs", "create_iso", "an image build"):
        r = cli("robot", "burn", "--segments", "all")
    assert r.code != 0 and "already running" in r.err
    assert not (home / "robot").exists()  # refused before the robot was even started
