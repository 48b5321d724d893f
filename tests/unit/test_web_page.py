"""GET /: a page from the package, no external assets, data never placed as HTML."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from starlette.testclient import TestClient

from odarchive.app.events import format_event
from tests.lib.web_service import HOSTILE, FakeService, SlowBurn

STATIC = resources.files("odarchive.app.web").joinpath("static")


@pytest.fixture
def client(home):
    service = FakeService(home, SlowBurn())
    yield TestClient(service.app, base_url="http://127.0.0.1:8780")
    service.close()


def test_page_and_its_files_come_from_the_package(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and r.headers["x-content-type-options"] == "nosniff"
    assert '<meta name="viewport"' in r.text  # readable on a phone
    refs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert refs and all(ref.startswith("/static/") or ref == "data:," for ref in refs)  # nothing external
    for ref in [ref for ref in refs if ref.startswith("/static/")]:
        f = client.get(ref)
        assert f.status_code == 200 and f.content == STATIC.joinpath(ref.rsplit("/", 1)[1]).read_bytes()
    assert client.get("/static/status.js").headers["content-type"].startswith("text/javascript")


@pytest.mark.parametrize("path", ["/static/index.html", "/static/..%2Fpage.py", "/static/nope.js", "/static/"])
def test_only_the_page_files_are_served(client, path):
    assert client.get(path).status_code == 404


def test_no_external_urls_and_no_html_from_data_in_the_script():
    js = STATIC.joinpath("status.js").read_text()
    css = STATIC.joinpath("status.css").read_text()
    html = STATIC.joinpath("index.html").read_text()
    for text in (js, css, html):
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text, re.I)
        assert "@import" not in text and "url(" not in text
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in js, sink
    assert "<script>" not in html.replace('<script src="/static/status.js" defer></script>', "")  # no inline script


def test_status_json_carries_hostile_names_as_data(client):
    r = client.get("/api/status")
    assert r.headers["content-type"] == "application/json"
    assert r.json()["changer"]["slots"][0]["label"].startswith(HOSTILE)  # exact, for programs
    assert HOSTILE not in client.get("/").text  # the page never has data in its HTML


@pytest.mark.parametrize(
    "fields,line",
    [
        ({"id": 3, "kind": "burn"}, "event=job.started id=3 kind=burn"),
        ({"path": "a b", "n": None}, 'event=job.started path="a b"'),
        ({"name": 'x"\ny'}, 'event=job.started name="x\\"\\ny"'),
        ({"name": b"caf\xff"}, 'event=job.started name="caf\\udcff"'),
        ({"seconds": 1.23456}, "event=job.started seconds=1.235"),
    ],
)
def test_event_lines(fields, line):
    assert format_event("job.started", **fields) == line
