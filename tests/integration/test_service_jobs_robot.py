"""Service jobs on the simulated robot, burning through `RobotService.burn`: a burn job's
progress is the real burn job's, and a rescan plans and burns only the new discs."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from odarchive.app.context import Context
from odarchive.app.job_manager import JobManager
from odarchive.app.job_steps import ArchiveSteps
from odarchive.app.robot_config import open_robot
from odarchive.app.service.config import ServiceConfig
from odarchive.app.service.state import RobotService
from odarchive.config import load_settings
from odarchive.home import Home
from robot_drivers.simulator import control
from tests.lib.robot_sim import setup_home
from tests.lib.trees import write


@pytest.fixture(autouse=True)
def stop_simulator(home: Path):
    yield
    control.stop(home / "robot")


@contextmanager
def robot_jobs(home: Path) -> Iterator[tuple[JobManager, RobotService]]:
    """The jobs of a service that owns the home's (simulated) robot."""
    h = Home(home)
    ctx = Context(h, load_settings(h.config_file), as_json=False)
    svc = RobotService(ctx, open_robot(ctx), ServiceConfig())
    svc.start()
    jobs = JobManager(ArchiveSteps(h, ctx.settings, svc.burn))
    try:
        yield jobs, svc
    finally:
        jobs.close(30)
        svc.close()


def follow(jobs: JobManager, job_id: int, timeout_s: float = 60.0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The job once it ended, and every distinct snapshot of it seen while it ran."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = jobs.get(job_id)
        assert job is not None
        if not seen or {k: job[k] for k in ("step", "percent", "discs")} != {
            k: seen[-1][k] for k in ("step", "percent", "discs")
        }:
            seen.append(job)
        if job["state"] in ("finished", "failed"):
            return job, seen
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} still {job['state']} after {timeout_s} s")


def test_burn_job_reports_the_robots_progress(home):
    setup_home(home, 3)
    with robot_jobs(home) as (jobs, svc):
        job, seen = follow(jobs, jobs.submit("burn", {"segments": "0-2"}, "test").id)
        slots = svc.status()["changer"]["slots"]
    assert job["state"] == "finished", job["error"]
    assert sorted(b["disc"] for b in job["result"]["burned"]) == [0, 1, 2]
    assert {d["disc"]: d["phase"] for d in job["discs"]} == {0: "verified", 1: "verified", 2: "verified"}
    assert {d["drive"] for d in job["discs"]} <= {0, 1} and all(d["slot"] for d in job["discs"])
    assert job["percent"] == 100.0 and job["items"] == 3
    running = [s for s in seen if s["state"] == "running" and s["discs"]]
    assert running and any(
        s["percent"] is not None and s["percent"] < 100 for s in running
    )  # progress, not just the end
    shelved = {s["disc"]: s["state"] for s in slots if s["disc"] is not None}
    assert shelved == {0: "recorded", 1: "recorded", 2: "recorded"}  # the status knows where they went


def test_rescan_burns_only_the_new_discs(home, tmp_path, cli):
    src = tmp_path / "photos"
    for n in range(2):
        write(src / f"{n}.bin", os.urandom(200_000))
    (home / "odarchive.toml").write_text("[robot.simulator]\nspeed = 1000.0\nslots = 12\ndrives = 2\nblanks = 8\n")
    assert cli("create_db", str(src), "--json").code == 0 and cli("plan_iso", "1M").code == 0
    with robot_jobs(home) as (jobs, _):
        first, _ = follow(jobs, jobs.submit("burn", {}, "test").id)
        assert first["state"] == "finished", first["error"]
        old = sorted(b["disc"] for b in first["result"]["burned"])
        write(src / "new.bin", os.urandom(300_000))
        job, _ = follow(jobs, jobs.submit("rescan", {"source": "photos"}, "test").id)
    assert job["state"] == "finished", job["error"]
    new = job["result"]["planned"]
    assert new and not set(new) & set(old)
    assert sorted(b["disc"] for b in job["result"]["burn"]["burned"]) == new
    assert job["result"]["burn"]["skipped"] == []
    info = cli("get_info", "--json").json()
    assert info["burned"] == len(old) + len(new)
