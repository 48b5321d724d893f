"""POST /api/jobs: burn planned discs, rescan a source and burn what changed; progress and errors."""

from __future__ import annotations

import json
import logging
import os
import time

import pytest
from starlette.testclient import TestClient

from odarchive.app.service.token import read_token
from odarchive.home import Home
from tests.lib.trees import write
from tests.lib.web_service import HOSTILE, FakeService, SlowBurn

BASE = "http://127.0.0.1:8780"


@pytest.fixture
def burn():
    return SlowBurn()


@pytest.fixture
def api(home, burn):
    service = FakeService(home, burn)
    token = read_token(Home(home))
    yield TestClient(service.app, base_url=BASE, headers={"Authorization": f"Bearer {token}"})
    service.close()


def archived(cli, tmp_path, name="photos", files=3, size="1M"):
    """A source scanned and planned onto discs of `size`; returns the source directory."""
    src = tmp_path / name
    for n in range(files):
        write(src / f"f{n}.bin", os.urandom(30_000))
    assert cli("create_db", str(src), "--json").code == 0
    assert cli("plan_iso", size).code == 0
    return src


def wait_job(api, job_id, state, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = api.get(f"/api/jobs/{job_id}").json()["job"]
        if job["state"] == state or (isinstance(state, tuple) and job["state"] in state):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} never reached {state}: {job}")


def test_burn_job_shows_progress_then_finishes(api, burn, cli, tmp_path):
    archived(cli, tmp_path)
    r = api.post("/api/jobs", json={"kind": "burn", "segments": "0"}, headers={"X-Odarchive-Client": "test"})
    assert r.status_code == 202, r.text
    job = r.json()["job"]
    assert r.headers["location"] == f"/api/jobs/{job['id']}"
    assert job["params"]["segments"] == "0" and job["client"] == "test"
    running = wait_job(api, job["id"], "running")
    deadline = time.monotonic() + 5
    while not running["discs"] and time.monotonic() < deadline:
        running = api.get(f"/api/jobs/{job['id']}").json()["job"]
    assert running["step"] == "burn" and running["percent"] == 40.0 and running["eta_s"] is not None
    assert (running["disc"], running["drive"]) == (0, 0)
    assert running["discs"] == [
        {"disc": 0, "drive": 0, "phase": "burn", "percent": 40.0, "attempt": 1, "label": "DISC_0000"}
    ]
    burn.release.set()
    done = wait_job(api, job["id"], "finished")
    assert done["result"]["burned"] == [{"disc": 0, "drive": 0}] and done["percent"] == 100.0
    assert done["eta_s"] is None and done["discs"][0]["phase"] == "verified"
    assert burn.specs == ["0"]
    assert api.get("/api/status").json()["jobs"][0]["id"] == job["id"]


@pytest.mark.parametrize(
    "body,status,words",
    [
        ({"kind": "burn", "segments": "7-3"}, 400, "bad segments '7-3'"),
        ({"kind": "burn", "segments": "99"}, 400, "no planned disc 99"),
        ({"kind": "burn", "segments": 5}, 400, "'segments' must be"),
        ({"kind": "erase"}, 400, "unknown job kind 'erase'"),
        ({"segments": "0"}, 400, "unknown job kind"),
        ({"kind": "rescan", "source": "nope"}, 400, "no source 'nope'"),
        ({"kind": "rescan", "source": "photos", "size": "huge"}, 400, "unknown disc size"),
        ({"kind": "rescan"}, 400, "'source' must be"),
    ],
)
def test_bad_requests_say_why_and_queue_nothing(api, burn, cli, tmp_path, body, status, words):
    archived(cli, tmp_path)
    r = api.post("/api/jobs", json=body)
    assert r.status_code == status, r.text
    assert words in r.json()["error"] and r.json()["hint"]
    assert api.get("/api/jobs").json()["jobs"] == [] and burn.specs == []


def test_bodies_that_are_not_a_json_object(api):
    assert api.post("/api/jobs", content=b'{"kind": "burn"}').status_code == 415  # no JSON content type
    h = {"Content-Type": "application/json"}
    assert api.post("/api/jobs", content=b"{nope", headers=h).json()["kind"] == "BadJSON"
    assert api.post("/api/jobs", content=b"[1]", headers=h).status_code == 400
    assert api.post("/api/jobs", content=b"{" + b" " * 70_000 + b"}", headers=h).status_code == 413


def test_burn_without_a_catalogue_or_plan(api, cli, tmp_path):
    r = api.post("/api/jobs", json={"kind": "burn"})
    assert r.status_code == 400 and "no catalogue" in r.json()["error"]
    src = tmp_path / "s"
    write(src / "a", b"a")
    cli("create_db", str(src))
    r = api.post("/api/jobs", json={"kind": "burn"})
    assert r.status_code == 400 and "no disc is planned" in r.json()["error"]
    r = api.post("/api/jobs", json={"kind": "rescan", "source": "s"})
    assert r.status_code == 400 and "medium is not known" in r.json()["error"]


def test_rescan_archives_only_what_changed(api, burn, cli, tmp_path):
    src = archived(cli, tmp_path)
    before = cli("num_isos").out.strip()
    burn.release.set()
    r = api.post("/api/jobs", json={"kind": "rescan", "source": "photos"})
    assert r.status_code == 202, r.text
    job = wait_job(api, r.json()["job"]["id"], ("finished", "failed"))
    assert job["state"] == "finished" and job["result"]["planned"] == [] and job["result"]["burn"] is None
    assert burn.specs == [] and cli("num_isos").out.strip() == before  # nothing changed: no disc, no burn

    write(src / "new.bin", os.urandom(40_000))
    r = api.post("/api/jobs", json={"kind": "rescan", "source": "photos"})
    job = wait_job(api, r.json()["job"]["id"], ("finished", "failed"))
    assert job["state"] == "finished", job["error"]
    new = job["result"]["planned"]
    assert new and min(new) >= int(before)  # new discs only, numbered after the old ones
    assert burn.specs == [",".join(str(d) for d in new)]
    assert job["result"]["scan"]["hashed_files"] == 1  # the unchanged files were not hashed again
    assert job["step"] == "burn"


def test_rescan_of_a_source_whose_path_is_gone(api, cli, tmp_path):
    src = archived(cli, tmp_path)
    for f in src.iterdir():
        f.unlink()
    src.rmdir()
    r = api.post("/api/jobs", json={"kind": "rescan", "source": "photos"})
    assert r.status_code == 400 and str(src) in r.json()["error"]


def test_a_failed_job_fails_alone(api, burn, cli, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="odarchive.service")
    archived(cli, tmp_path)
    from robot_drivers.errors import RobotError

    burn.fail = RobotError("the picker jammed")
    burn.release.set()
    first = api.post("/api/jobs", json={"kind": "burn", "segments": "0"}).json()["job"]
    failed = wait_job(api, first["id"], "failed")
    assert "the picker jammed" in failed["error"]
    burn.fail = None
    second = api.post("/api/jobs", json={"kind": "burn", "segments": "0"}).json()["job"]
    assert wait_job(api, second["id"], "finished")["result"]["burned"]
    events = [r.getMessage() for r in caplog.records if r.name == "odarchive.service"]
    for kind in ("job.queued", "job.started", "job.failed", "job.finished", "job.disc.verified"):
        assert any(f"event={kind} " in e for e in events), kind
    assert not any("\n" in e for e in events)
    jobs = api.get("/api/jobs").json()["jobs"]
    assert [j["id"] for j in jobs] == [second["id"], first["id"]]  # newest first


def test_jobs_queue_one_at_a_time(api, burn, cli, tmp_path):
    archived(cli, tmp_path)
    a = api.post("/api/jobs", json={"kind": "burn", "segments": "0"}).json()["job"]
    b = api.post("/api/jobs", json={"kind": "burn", "segments": "0"}).json()["job"]
    wait_job(api, a["id"], "running")
    assert api.get(f"/api/jobs/{b['id']}").json()["job"]["state"] == "queued"
    burn.release.set()
    wait_job(api, b["id"], "finished")
    assert api.get("/api/jobs/999").status_code == 404


def test_archive_lists_sources_and_discs_with_exact_names(api, cli, tmp_path):
    name = HOSTILE.replace("/", "_") + "\udcff"  # hostile and not UTF-8
    archived(cli, tmp_path, name=name)
    r = api.get("/api/archive")
    assert r.status_code == 200
    (source,) = r.json()["sources"]
    assert source["name"] == name  # exact, the undecodable byte included
    assert r.json()["discs"]["not_burned"] == [0]
    body = json.dumps({"kind": "rescan", "source": source["name"]})  # as JSON.stringify writes it: \\udcff
    r = api.post("/api/jobs", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 202, r.text  # the name a client got is the name that works
