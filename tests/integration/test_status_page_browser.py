"""The status page in a real browser: headless Chromium against a real uvicorn.

Against the service's app with a fixture status: the page loads with no script errors and
no CSP complaints, the 600-slot map and the drives render, a label holding `<script>` shows
as text and runs nothing, the page fits a phone's width. Against a real `odarchive serve`
on the simulated robot: a burn started from the page's button with the token shows its
progress until it finishes, and the slot map then shows the burned discs. Screenshots are
kept (pytest's tmp dir, copied to benchmarks/work/status-page/).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.lib.browser import Browser, chromium_path
from tests.lib.robot_sim import setup_home
from tests.lib.service_home import running_service
from tests.lib.web_service import HOSTILE, FakeService, SlowBurn, served

ARTIFACTS = Path(__file__).resolve().parents[2] / "benchmarks" / "work" / "status-page"

TOKEN_BOX_SHOWN = "getComputedStyle(document.getElementById('token-box')).display !== 'none'"

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (scripts/install)")


def keep(shot: Path) -> Path:
    """Copy a screenshot where a person finds it after the run, and say where."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    kept = ARTIFACTS / shot.name
    shutil.copyfile(shot, kept)
    print(f"screenshot: {kept} (and {shot})")
    return kept


def open_page(browser: Browser, url: str) -> None:
    browser.open(url + "/")
    browser.wait_for("Number(document.body.dataset.rendered) >= 1")


@pytest.fixture
def fixture_page(home, tmp_path, cli):
    src = tmp_path / "photos"
    src.mkdir()
    (src / "a.bin").write_bytes(b"a" * 50_000)
    assert cli("create_db", str(src), "--json").code == 0 and cli("plan_iso", "1M").code == 0
    service = FakeService(home, SlowBurn())
    with served(service.app) as url:
        browser = Browser(tmp_path / "browser")
        try:
            open_page(browser, url)
            yield browser, url, tmp_path
        finally:
            browser.close()
            service.close()


@pytest.mark.slow
def test_page_renders_slots_and_drives_and_escapes_names(fixture_page):
    browser, url, tmp_path = fixture_page
    counts = browser.evaluate(
        "(() => { const c = {}; for (const s of document.querySelectorAll('#slots .slot'))"
        " c[s.dataset.state] = (c[s.dataset.state] || 0) + 1; return c; })()"
    )
    assert sum(counts.values()) == 600
    assert set(counts) == {"recorded", "blank", "empty", "drive", "faulty"} and counts["recorded"] == 300
    assert browser.evaluate("document.querySelectorAll('#drives .card').length") == 2
    drives = browser.evaluate("document.getElementById('drives').textContent")
    assert "Drive 0" in drives and "reading" in drives and "disc 7" in drives and f"mount {HOSTILE}" in drives
    # the hostile label is text, never markup: nothing ran, no element came from it
    assert browser.evaluate("window.__pwned === undefined")
    assert browser.evaluate("document.querySelectorAll('script').length") == 1
    assert browser.evaluate("document.querySelectorAll('img').length") == 0
    assert HOSTILE in browser.evaluate("document.querySelector('#slots .slot').title")
    assert HOSTILE in browser.evaluate("document.getElementById('queue').textContent")
    assert HOSTILE in browser.evaluate("document.getElementById('mounts').textContent")
    assert f"insert disc 17 (set B): shelf {HOSTILE}" in browser.evaluate(
        "document.getElementById('offline').textContent"
    )
    assert "0.90" in browser.evaluate("document.getElementById('mounts').textContent")  # cache hit ratio
    scrub = browser.evaluate("document.getElementById('scrub').textContent")
    assert "every 30d, 4 disc(s) scrubbed" in scrub and "scrubbing disc 3 (set B) on drive 1" in scrub
    assert f"no slot {HOSTILE}" in scrub and "needs attention: disc 5 (set B) corrected" in scrub
    browser.click("#slots .slot")
    assert browser.evaluate("document.getElementById('slot-detail').textContent").startswith(
        "slot 1: recorded, disc 0 (<script>"
    )
    assert browser.problems() == []
    keep(browser.screenshot(tmp_path / "status-page-desktop.png"))

    browser.viewport(390, 844, mobile=True)  # a phone
    open_page(browser, url)
    assert browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    box = browser.evaluate(
        "(() => { const r = document.getElementById('slots').getBoundingClientRect(); return [r.width, r.height]; })()"
    )
    assert box[0] <= 390 and box[1] < 844  # all 600 slots on one phone screen
    keep(browser.screenshot(tmp_path / "status-page-phone.png"))


@pytest.mark.slow
def test_a_burn_started_with_the_token_shows_its_progress(home, tmp_path):
    setup_home(home, 2, slots=600, blanks=10)
    config = home / "odarchive.toml"
    config.write_text(config.read_text().replace("speed = 1000.0", "speed = 5.0"))  # a burn that takes seconds
    with running_service(home) as client:
        url = f"http://{client.status()['service']['listen']}"
        token = (home / "service.token").read_text().strip()
        browser = Browser(tmp_path / "browser")
        try:
            open_page(browser, url)
            assert browser.evaluate("document.querySelectorAll('#slots .slot.s-blank').length") == 10
            assert browser.evaluate("document.querySelectorAll('#slots .slot').length") == 600
            assert browser.evaluate("document.querySelectorAll('#drives .card').length") == 2

            browser.click("#burn")  # no token yet: the page asks for it
            browser.wait_for(TOKEN_BOX_SHOWN)
            browser.type_into("#token", "not-the-token")
            browser.click("#token-save")
            browser.click("#burn")
            browser.wait_for("document.getElementById('action-result').textContent.includes('refused the token')")
            assert browser.evaluate("localStorage.getItem('odarchive.token')") is None  # a refused token is forgotten
            assert client.status()["jobs"] == []

            browser.type_into("#token", token)
            browser.click("#token-save")
            assert not browser.evaluate(TOKEN_BOX_SHOWN)
            browser.click("#burn")
            browser.wait_for("document.getElementById('action-result').textContent.includes('queued')")
            line = browser.wait_for(
                "(() => { const j = document.querySelector('#jobs .job.running');"
                " return j && j.querySelector('progress') && j.querySelector('.discs')"
                " && j.textContent; })()",
                timeout_s=30,
            )
            assert "burn discs all" in line and "by page" in line and "drive" in line
            keep(browser.screenshot(tmp_path / "status-page-burning.png"))

            done = browser.wait_for(
                "(() => { const j = document.querySelector('#jobs .job.finished'); return j && j.textContent; })()",
                timeout_s=90,
            )
            assert "2 disc(s) burned" in done
            browser.wait_for("document.querySelectorAll('#slots .slot.s-recorded').length === 2")
            assert browser.evaluate("localStorage.getItem('odarchive.token')") == token  # asked once, kept
            assert [p for p in browser.problems() if "401 (Unauthorized)" not in p] == []  # but the refused token
            keep(browser.screenshot(tmp_path / "status-page-burned.png"))
            (job,) = client.status()["jobs"]
            assert job["state"] == "finished" and sorted(b["disc"] for b in job["result"]["burned"]) == [0, 1]
            events = [line for line in (home / "logs" / "service.log").read_text().splitlines() if "event=job." in line]
            for kind in ("queued", "started", "step", "disc.burning", "disc.verified", "finished"):
                assert any(f"event=job.{kind} " in line for line in events), (kind, events)
        finally:
            browser.close()
