"""`odarchive status` text for a running service: the page's information, line by line."""

from __future__ import annotations

from odarchive.cli.service_status import describe_service
from tests.lib.web_service import HOSTILE, fixture_status


def test_every_part_of_the_status_is_described():
    s = fixture_status()
    s["jobs"] = [
        {
            "id": 2,
            "kind": "burn",
            "state": "running",
            "params": {"segments": "0-3"},
            "step": "burn",
            "phase": "burn",
            "percent": 42.04,
            "eta_s": 130,
            "disc": 1,
            "drive": 0,
        },
        {"id": 1, "kind": "rescan", "state": "failed", "params": {"source": "photos"}, "error": "source is gone"},
        {
            "id": 0,
            "kind": "rescan",
            "state": "finished",
            "params": {"source": "photos"},
            "finished": s["now"] - 120,
            "result": {"planned": [4, 5], "burn": {"burned": [{"disc": 4}, {"disc": 5}]}},
        },
    ]
    text = "\n".join(describe_service(s))
    assert "service (pid 4242)" in text and "page http://127.0.0.1:0/" in text and "up 60 s" in text
    assert "changer simulator: 600 slots: 300 recorded, 75 blank, 75 empty, 75 in a drive, 75 faulty" in text
    assert f"FAULT: jam near {HOSTILE}" in text
    assert f"drive 0: reading, disc 7 ({HOSTILE}_0007), lease read by mount {HOSTILE}, since 5 s" in text
    assert "drive 1: idle, since 30 s" in text
    assert "disc 12: 3 read(s) waiting, oldest 4 s" in text or "disc 12: 3 read(s) waiting, oldest 5 s" in text
    assert "job 2 burn discs 0-3: running, burn 42.0%, ETA 2 min, disc 1 on drive 0" in text
    assert "job 1 rescan photos: failed: source is gone" in text
    assert "job 0 rescan photos: finished 2 min ago, 2 disc(s) burned" in text
    assert "hit ratio 0.90, 4 disc loads, 1 failures, cache 5 MB of 1 GB" in text


def test_an_idle_service_with_nothing_known():
    lines = describe_service({"service": {"pid": 1, "home": "/h"}})
    assert lines == ["service (pid 1) on /h", "  changer ?: 0 slots", "  no drives", "  queue: nothing waits"]


def test_the_background_scrub_is_described():
    s = fixture_status()
    s["scrub"] = {
        "every": "30d",
        "current": {"disc": 3, "copy": 1, "set": "B", "drive": 1, "since": s["now"] - 20, "bytes": 25_000_000_000},
        "last": {"disc": 2, "copy": 0, "set": "A", "result": "corrected", "at": s["now"] - 300},
        "scrubbed": 4,
        "gave_way": 1,
        "skipped": [{"disc": 9, "copy": 0, "reason": "disc 9 is in no slot of the changer"}],
        "attention": [{"disc": 5, "copy": 1, "set": "B", "result": "failed", "at_ns": 1, "detail": "x"}],
    }
    lines = describe_service(s)
    assert (
        "  background scrub: every 30d, 4 disc(s) scrubbed, gave way 1 time(s); scrubbing disc 3 (set B) on"
        " drive 1 for 20 s; last: disc 2 (set A) corrected 5 min ago" in lines
    )
    assert "    skipped disc 9 copy 0: disc 9 is in no slot of the changer" in lines
    assert "    needs attention: disc 5 (set B) failed (`odarchive robot burn --replace 5`)" in lines
    s["scrub"] = {"every": "off"}
    assert "  background scrub: off" in describe_service(s)
    s["scrub"] = {"every": "off", "why": "the manual driver"}
    assert "  background scrub: off (the manual driver)" in describe_service(s)
