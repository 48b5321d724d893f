"""The scan's writer thread: calls in order off the walking thread, errors stop later calls,
and a scan with it records what a scan without it does."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue
from odarchive.scan import scan_source
from odarchive.scan import smallfiles as smallfiles_mod
from odarchive.scan.writer import Writer
from tests.lib.trees import snapshot_listing, write


def test_calls_run_in_order_on_another_thread():
    w = Writer(threaded=True)
    seen: list[tuple[int, str]] = []
    for i in range(50):
        w.submit(lambda i: seen.append((i, threading.current_thread().name)), i)
    w.drain()
    assert [i for i, _ in seen] == list(range(50))
    assert {name for _, name in seen} == {"scan-writer"}
    w.close()


def test_a_failed_call_drops_the_later_ones_and_is_raised():
    w = Writer(threaded=True)
    ran: list[int] = []

    def fail() -> None:
        raise OSError("disk full")

    w.submit(ran.append, 1)
    w.submit(fail)
    w.submit(ran.append, 2)  # e.g. a directory's digest after its failed rows: must not land
    w.close()
    assert ran == [1]
    with pytest.raises(OSError, match="disk full"):
        w.drain()
    with pytest.raises(OSError, match="disk full"):
        w.submit(ran.append, 3)
    assert ran == [1]


def test_unthreaded_runs_at_once():
    w = Writer(threaded=False)
    ran: list[str] = []
    w.submit(lambda: ran.append(threading.current_thread().name))
    assert ran == [threading.current_thread().name]


def test_a_scan_with_the_writer_thread_records_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    src = tmp_path / "src"
    for d in range(7):
        for f in range(150):  # several batches, directories spanning batches
            write(src / f"d{d}" / f"f{f}", b"%d-%d" % (d, f % 90))
    threads: set[str] = set()
    real = smallfiles_mod.SmallFiles._insert

    def spy(self, *args):
        threads.add(threading.current_thread().name)
        return real(self, *args)

    monkeypatch.setattr(smallfiles_mod.SmallFiles, "_insert", spy)
    listings = []
    for home, shared in ((tmp_path / "a", False), (tmp_path / "b", True)):
        home.mkdir()
        with Catalogue.open(home / "catalogue.sqlite", create=True, check_same_thread=not shared) as cat:
            summary = scan_source(cat, src)
        assert (summary.hashed_files, summary.new_contents, summary.skipped) == (1050, 630, 0)
        listings.append(snapshot_listing(home))
    assert listings[0] == listings[1]
    assert threads == {"MainThread", "scan-writer"}
