"""Every route behind the guards: 401 without the token, 403 from another origin or host."""

from __future__ import annotations

import logging
import os
import stat

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from odarchive.app.service.http import SAFE_METHODS
from odarchive.app.service.token import ensure_token, read_token
from odarchive.home import Home
from tests.lib.web_service import FakeService, SlowBurn

BASE = "http://127.0.0.1:8780"


@pytest.fixture
def service(home):
    svc = FakeService(home, SlowBurn())
    yield svc
    svc.close()


@pytest.fixture
def client(service):
    return TestClient(service.app, base_url=BASE)


@pytest.fixture
def token(home, service):
    return read_token(Home(home))


def state_changing(app) -> list[tuple[str, str]]:
    """(method, path) of every route that changes state, with path parameters filled in."""
    out = []
    for r in app.routes:
        if isinstance(r, Route):
            for m in sorted((r.methods or set()) - SAFE_METHODS):
                out.append((m, r.path.replace("{job_id:int}", "1")))
    return out


def test_a_token_others_could_read_is_replaced(home):
    h = Home(home)
    old = ensure_token(h)
    assert stat.S_IMODE(os.stat(h.service_token).st_mode) == 0o600 and ensure_token(h) == old
    os.chmod(h.service_token, 0o640)
    new = ensure_token(h)
    assert new != old and stat.S_IMODE(os.stat(h.service_token).st_mode) == 0o600


def test_every_state_changing_route_needs_the_token(service, client, token):
    routes = state_changing(service.app)
    assert {("POST", "/api/jobs"), ("POST", "/api/stop")} <= set(routes)
    for method, path in routes:
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": f"Basic {token}"},
            {"Authorization": f"Bearer {token}x"},
            {"Authorization": "Bearer"},
        ):
            r = client.request(method, path, headers=headers, json={"kind": "burn"})
            assert r.status_code == 401, (method, path, headers, r.text)
            assert "token" in r.json()["error"] and "service.token" in r.json()["hint"]
        r = client.request(method, path, headers={"Authorization": f"Bearer {token}"}, json={"kind": "nothing"})
        assert r.status_code not in (401, 403), (method, path, r.text)
    assert service.stopped  # the one with the token went through


def test_reading_needs_no_token(client):
    for path in ("/api/status", "/api/jobs", "/api/archive", "/", "/static/status.js"):
        assert client.get(path).status_code in (200, 409), path  # 409: /api/archive without a catalogue


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://127.0.0.1:9999"},  # another port is another origin
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "http://127.0.0.1:8780"},
    ],
)
def test_cross_origin_requests_are_refused_even_with_the_token(service, client, token, headers):
    for method, path in [*state_changing(service.app), ("GET", "/api/status"), ("GET", "/api/jobs")]:
        r = client.request(method, path, headers={**headers, "Authorization": f"Bearer {token}"}, json={"kind": "burn"})
        assert r.status_code == 403, (method, path, headers)
        assert r.json()["kind"] == "CrossOrigin" and "another origin" in r.json()["error"]
    assert not service.stopped


def test_same_origin_and_navigation_pass(client, token):
    same = {"Origin": BASE, "Sec-Fetch-Site": "same-origin", "Authorization": f"Bearer {token}"}
    r = client.post("/api/jobs", headers=same, json={"kind": "nothing"})
    assert r.status_code == 400 and r.json()["kind"] == "JobRequestError"  # past both guards
    nav = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    assert client.get("/", headers=nav).status_code == 200  # following a link to the page changes nothing
    r = client.post("/api/jobs", headers={**nav, "Authorization": f"Bearer {token}"}, json={"kind": "burn"})
    assert r.status_code == 403  # but a cross-site form post is no navigation we let through


@pytest.mark.parametrize(
    "host,ok",
    [
        ("127.0.0.1:8780", True),
        ("[::1]:8780", True),
        ("localhost:8780", True),
        ("192.0.2.7", True),
        ("evil.example", False),
        ("evil.example:8780", False),
        ("localhost.evil.example", False),
    ],
)
def test_foreign_host_names_are_refused(client, host, ok):
    r = client.get("/api/status", headers={"Host": host})
    assert (r.status_code == 200) is ok
    if not ok:
        assert r.status_code == 403 and r.json()["kind"] == "ForeignHost"


def test_each_refusal_is_one_log_line(client, caplog):
    caplog.set_level(logging.INFO, logger="odarchive.service")
    client.post("/api/jobs", headers={"Origin": "http://evil\n.example"}, json={})
    (line,) = [r.getMessage() for r in caplog.records if "request.refused" in r.getMessage()]
    assert "\n" not in line and "status=403" in line and "reason=CrossOrigin" in line
