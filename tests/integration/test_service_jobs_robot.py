"""Service jobs on the simulated robot: a burn job's progress is the real burn job's, and a
rescan plans and burns only the new discs, each verified and shelved."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from odarchive.app.job_manager import JobManager
from odarchive.app.job_steps import ArchiveSteps
from odarchive.app.context import Context
from odarchive.config import load_settings
from odarchive.home import Home
from odarchive.progress import Reporter
from robot_drivers.simulator import control
from tests.lib.robot_sim import setup_home
from tests.lib.trees import write


@pytest.fixture(autouse=True)
def stop_simulator(home: Path):
    yield
    control.stop(home / "robot")


def robot_jobs(home: Path) -> JobManager:
    """The jobs of a service that burns through the robot it opened, as the command does."""
    from odarchive.app.robot_burn import run_burn
    from odarchive.app.robot_config import open_robot

    h = Home(home)
    ctx = Context(h, load_settings(h.config_file), as_json=False)

    def burn(spec: str, reporter: Reporter) -> dict[str, Any]:
        robot = open_robot(ctx)
        try:
            return run_burn(ctx, robot, spec, reporter)
        finally:
            robot.close()

    return JobManager(ArchiveSteps(h, ctx.settings, burn))


def follow(jobs: JobManager, job_id: int, timeout_s: float = 60.0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The job once it ended, and every distinct snapshot of it seen while it ran."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = jobs.get(job_id)
        assert job is not None
        if not seen or {k: job[k] for k in ("step", "percent", "discs")} != {k: seen[-1][k] for k in ("step", "percent", "discs")}:
            seen.append(job)
        if job["state"] in ("finished", "failed"):
            return job, seen
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} still {job['state']} after {timeout_s} s")


def test_burn_job_reports_the_robots_progress(home):
    setup_home(home, 3)
    jobs = robot_jobs(home)
    try:
        job, seen = follow(jobs, jobs.submit("burn", {"segments": "0-2"}, "test").id)
    finally:
        jobs.close(30)
    assert job["state"] == "finished", job["error"]
    assert sorted(b["disc"] for b in job["result"]["burned"]) == [0, 1, 2]
    assert {d["disc"]: d["phase"] for d in job["discs"]} == {0: "verified", 1: "verified", 2: "verified"}
    assert {d["drive"] for d in job["discs"]} <= {0, 1} and all(d["slot"] for d in job["discs"])
    assert job["percent"] == 100.0 and job["items"] == 3
    running = [s for s in seen if s["state"] == "running" and s["discs"]]
    assert running and any(s["percent"] is not None and s["percent"] < 100 for s in running)  # progress, not just the end


def test_rescan_burns_only_the_new_discs(home, tmp_path, cli):
    src = tmp_path / "photos"
    for n in range(2):
        write(src / f"{n}.bin", os.urandom(200_000))
    (home / "odarchive.toml").write_text("[robot.simulator]\nspeed = 1000.0\nslots = 12\ndrives = 2\nblanks = 8\n")
    assert cli("create_db", str(src), "--json").code == 0 and cli("plan_iso", "1M").code == 0
    jobs = robot_jobs(home)
    try:
        first, _ = follow(jobs, jobs.submit("burn", {}, "test").id)
        assert first["state"] == "finished", first["error"]
        old = sorted(b["disc"] for b in first["result"]["burned"])
        write(src / "new.bin", os.urandom(300_000))
        job, _ = follow(jobs, jobs.submit("rescan", {"source": "photos"}, "test").id)
    finally:
        jobs.close(30)
    assert job["state"] == "finished", job["error"]
    new = job["result"]["planned"]
    assert new and not set(new) & set(old)
    assert sorted(b["disc"] for b in job["result"]["burn"]["burned"]) == new
    assert job["result"]["burn"]["skipped"] == []
    info = cli("get_info", "--json").json()
    assert info["burned"] == len(old) + len(new)
