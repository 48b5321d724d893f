"""Directory listings read ahead in another process (odarchive.scan.lister): the same catalogue
as listing in the walking process, what it must leave out left out, and a lister that dies or
loses its place costing a warning, not a directory."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from odarchive.catalogue import Catalogue
from odarchive.scan import ScanOptions, scan_source
from odarchive.scan import walker as walker_mod
from odarchive.scan.lister import Lister
from odarchive.scan.listing import Listing
from tests.lib.trees import snapshot_listing, write


class Events:
    """A reporter that keeps the events."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def start(self, phase: str, total_items: int | None = None, total_bytes: int | None = None) -> None:
        pass

    def advance(self, items: int = 0, nbytes: int = 0) -> None:
        pass

    def event(self, kind: str, **fields: Any) -> None:
        self.events.append((kind, fields))

    def finish(self) -> None:
        pass


def tree(src: Path) -> None:
    """Every directory has what a listing must handle: files, a symlink, a FIFO (skipped), a
    file the exclude glob leaves out, and one holds the archive's home (left out)."""
    for i in range(12):
        d = src / f"d{i:02d}" / "sub"
        for j in range(60):
            write(d / f"f{j}", b"%d-%d" % (i, j % 25))
        write(d / "notes.tmp", b"excluded")
        os.symlink(f"f{i}", d / "link")
        os.mkfifo(d / "pipe")
        (src / f"d{i:02d}" / "empty").mkdir()
    (src / "d07" / "sub" / "home").mkdir()


def scan(home: Path, src: Path, jobs: int) -> Events:
    home.mkdir()
    events = Events()
    options = ScanOptions(
        jobs=jobs, excludes=("*.tmp",), exclude_dirs=((os.fsencode(src / "d07" / "sub" / "home"), "the home"),)
    )
    with Catalogue.open(home / "catalogue.sqlite", create=True) as cat:
        scan_source(cat, src, options, events)
    return events


@pytest.fixture
def read_ahead_early(monkeypatch: pytest.MonkeyPatch) -> list[Lister]:
    """The lister starts after the root's listing, so it lists every other directory; the
    listers started are kept."""
    monkeypatch.setattr(walker_mod, "INLINE_ENTRIES", 1)
    started: list[Lister] = []
    real_init = Lister.__init__

    def spy(self: Lister, *args: Any) -> None:
        real_init(self, *args)
        started.append(self)

    monkeypatch.setattr(Lister, "__init__", spy)
    return started


def kinds(events: Events) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for kind, fields in events.events:
        out.setdefault(kind, []).append(fields)
    return out


def scanned_both_ways(tmp_path: Path, src: Path) -> dict[str, list[dict[str, Any]]]:
    """Scan `src` in one process and with the lister; the catalogues must be the same. Returns
    the second scan's events by kind."""
    scan(tmp_path / "one", src, jobs=1)
    events = kinds(scan(tmp_path / "two", src, jobs=2))
    assert snapshot_listing(tmp_path / "one") == snapshot_listing(tmp_path / "two")
    return events


def test_listings_read_ahead_give_the_catalogue_of_listing_in_the_walk(tmp_path: Path, read_ahead_early: list):
    src = tmp_path / "src"
    tree(src)
    alone = kinds(scan(tmp_path / "one", src, jobs=1))
    assert read_ahead_early == []
    ahead = kinds(scan(tmp_path / "two", src, jobs=2))
    assert len(read_ahead_early) == 1
    assert snapshot_listing(tmp_path / "one") == snapshot_listing(tmp_path / "two")
    paths = {p for p, *_ in snapshot_listing(tmp_path / "two")}
    assert b"src/d03/sub/link" in paths and b"src/d03/empty" in paths
    assert not any(p.endswith((b".tmp", b"/pipe")) or b"/home" in p for p in paths)
    # the FIFOs are skipped with their reason, the home is reported once, nothing else is said
    assert sorted(e["path"] for e in ahead["skipped"]) == sorted(e["path"] for e in alone["skipped"])
    assert len(ahead["skipped"]) == 12 and all("FIFO" in e["reason"] for e in ahead["skipped"])
    assert ahead["excluded"] == alone["excluded"] == [{"path": str(src / "d07" / "sub" / "home"), "reason": "the home"}]
    assert "warning" not in ahead


def killed_at_once(real: Any) -> Any:
    def next_listing(self: Lister, abspath: bytes) -> Listing | str:
        os.kill(self._process.pid, signal.SIGKILL)
        self._process.join()
        return real(self, abspath)

    return next_listing


def in_another_order(real: Any) -> Any:
    def start(self: Lister, stack: list[tuple[bytes, bytes]], rules: Any) -> None:
        real(self, stack[::-1], rules)  # a bug: it walks in another order than the walk

    return start


def without_fork_server(real: Any) -> Any:
    def start(self: Lister, *args: Any) -> None:
        raise OSError(38, "Function not implemented")

    return start


@pytest.mark.parametrize(
    ("method", "fault", "said"),
    [
        ("next", killed_at_once, "ended unexpectedly"),
        ("__init__", in_another_order, "lost its place"),
        ("__init__", without_fork_server, "cannot read directories ahead"),
    ],
    ids=["killed", "loses its place", "cannot start"],
)
def test_a_lister_that_fails_costs_one_warning_and_the_walk_lists_the_rest_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, read_ahead_early: list, method: str, fault: Any, said: str
):
    tree(tmp_path / "src")
    monkeypatch.setattr(Lister, method, fault(getattr(Lister, method)))
    [warning] = scanned_both_ways(tmp_path, tmp_path / "src")["warning"]
    assert said in warning["reason"]
