"""The service's token and guard: 401 without the token, 403 from another origin or host."""

from __future__ import annotations

import logging
import os
import stat

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from odarchive.app.web.security import SAFE_METHODS, auth_headers, ensure_token, read_token, token_path
from tests.lib.web_service import FakeService, SlowBurn, make_app

BASE = "http://127.0.0.1:8780"


@pytest.fixture
def app_token(home):
    token = ensure_token(home)
    service = FakeService(home, SlowBurn())
    app = make_app(service, token)
    yield app, token
    service.jobs.close(5)


def state_changing(app) -> list[tuple[str, str]]:
    """(method, path) of every route that changes state, with path parameters filled in."""
    out = []
    for r in app.routes:
        if isinstance(r, Route):
            for m in sorted((r.methods or set()) - SAFE_METHODS):
                out.append((m, r.path.replace("{job_id:int}", "1")))
    return out


def test_token_file_is_private_and_kept(home):
    token = ensure_token(home)
    mode = stat.S_IMODE(os.stat(token_path(home)).st_mode)
    assert mode == 0o600 and len(token) >= 32
    assert ensure_token(home) == token == read_token(home)
    assert auth_headers(home) == {"Authorization": f"Bearer {token}"}


def test_a_token_others_could_read_is_replaced(home):
    old = ensure_token(home)
    os.chmod(token_path(home), 0o644)
    new = ensure_token(home)
    assert new != old and stat.S_IMODE(os.stat(token_path(home)).st_mode) == 0o600


def test_no_token_yet(home):
    assert read_token(home) is None and auth_headers(home) == {}


def test_every_state_changing_route_needs_the_token(app_token):
    app, token = app_token
    routes = state_changing(app)
    assert ("POST", "/api/jobs") in routes
    c = TestClient(app, base_url=BASE)
    for method, path in routes:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {token}"},
                        {"Authorization": f"Bearer {token}x"}, {"Authorization": "Bearer"}):
            r = c.request(method, path, headers=headers, json={"kind": "burn"})
            assert r.status_code == 401, (method, path, headers, r.text)
            assert r.json()["error"] == "Unauthorized" and "service.token" in r.json()["hint"]
            assert r.headers["www-authenticate"].startswith("Bearer")
        r = c.request(method, path, headers={"Authorization": f"Bearer {token}"}, json={"kind": "nothing"})
        assert r.status_code not in (401, 403), (method, path, r.text)


def test_reading_needs_no_token(app_token):
    app, _ = app_token
    c = TestClient(app, base_url=BASE)
    assert c.get("/api/status").status_code == 200
    assert c.get("/api/jobs").status_code == 200
    assert c.get("/").status_code == 200


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "http://127.0.0.1:9999"},  # another port is another origin
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Sec-Fetch-Site": "cross-site", "Origin": "http://127.0.0.1:8780"},
])
def test_cross_origin_requests_are_refused_even_with_the_token(app_token, headers):
    app, token = app_token
    c = TestClient(app, base_url=BASE)
    for method, path in [*state_changing(app), ("GET", "/api/status"), ("GET", "/api/jobs")]:
        r = c.request(method, path, headers={**headers, "Authorization": f"Bearer {token}"}, json={"kind": "burn"})
        assert r.status_code == 403, (method, path, headers)
        assert r.json()["error"] == "CrossOrigin"


def test_same_origin_and_navigation_pass(app_token):
    app, token = app_token
    c = TestClient(app, base_url=BASE)
    same = {"Origin": BASE, "Sec-Fetch-Site": "same-origin", "Authorization": f"Bearer {token}"}
    r = c.post("/api/jobs", headers=same, json={"kind": "nothing"})
    assert r.status_code == 400 and r.json()["error"] == "JobRequestError"  # past the guard
    nav = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    assert c.get("/", headers=nav).status_code == 200  # following a link to the page changes nothing
    r = c.post("/api/jobs", headers={**nav, "Authorization": f"Bearer {token}"}, json={"kind": "burn"})
    assert r.status_code == 403  # but a cross-site form post is no navigation we let through


@pytest.mark.parametrize("host,ok", [
    ("127.0.0.1:8780", True), ("[::1]:8780", True), ("localhost:8780", True), ("192.0.2.7", True),
    ("evil.example", False), ("evil.example:8780", False), ("localhost.evil.example", False),
])
def test_foreign_host_names_are_refused(app_token, host, ok):
    app, _ = app_token
    r = TestClient(app, base_url=BASE).get("/api/status", headers={"Host": host})
    assert (r.status_code == 200) is ok
    if not ok:
        assert r.status_code == 403 and r.json()["error"] == "ForeignHost"


def test_each_refusal_is_one_log_line(app_token, caplog):
    app, _ = app_token
    caplog.set_level(logging.INFO, logger="odarchive.service")
    TestClient(app, base_url=BASE).post("/api/jobs", headers={"Origin": "http://evil\n.example"}, json={})
    (line,) = [r.getMessage() for r in caplog.records if "request.refused" in r.getMessage()]
    assert "\n" not in line and "status=403" in line and "reason=CrossOrigin" in line
