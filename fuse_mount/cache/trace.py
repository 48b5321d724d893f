"""The access trace: one JSON line per read (or run of reads), for `replay.py` to tune with.

A line is `{"t": 1764220000.123, "key": "<sha256>", "size": 123, "off": 0, "len": 4096,
"hit": true}`: time in seconds since the epoch, the content, its size, the read's offset and
length after clamping to the size. Sequential reads of one content with the same outcome
within MERGE_WINDOW_S are written as one line with `"n"` reads (`t` is the last one's time):
streaming a 1 GB video in 128 KiB reads is a handful of lines, not 8,192, so the trace keeps
days of history. A miss on a content the cache has never seen has size -1 unless the reader
passed it; the cache then writes `{"t": ..., "key": ..., "size": 123, "op": "fill"}` when the
fetched data is stored, and `read_trace` fills the size in from that.

Lines are buffered and flushed at least every second and on close; the file is rotated to
`<name>.1` when it grows past `max_bytes`, so at most twice that is kept. The writer has its
own leaf lock (see the lock order in cache.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

log = logging.getLogger("fuse_mount.cache")

MERGE_WINDOW_S = 1.0
MAX_PENDING = 256


@dataclass(frozen=True)
class Access:
    t: float
    key: str
    size: int
    off: int
    len: int
    hit: bool
    n: int = 1
    """How many consecutive reads this access stands for."""


class TraceWriter:
    def __init__(self, path: Path, max_bytes: int, flush_interval_s: float = 1.0) -> None:
        self.path = path
        self._max_bytes = max_bytes
        self._flush_interval_s = flush_interval_s
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self._last_flush = time.monotonic()
        # The open run of reads per content: [t, key, size, off, len, hit, n]. Plain lists and
        # hand-formatted lines: with dataclasses and json.dumps the trace halved cached reads.
        self._pending: dict[str, list] = {}
        self._latest_t = 0.0
        self.dropped = False
        """Lines were dropped because the disk was full (warned once)."""

    def append(self, a: Access) -> None:
        self.record(a.t, a.key, a.size, a.off, a.len, a.hit)

    def record(self, t: float, key: str, size: int, off: int, length: int, hit: bool) -> None:
        """Record a read; a read that continues the pending run of its content joins it."""
        with self._lock:
            if t > self._latest_t:
                self._latest_t = t
            run = self._pending.get(key)
            if run is not None:
                if run[5] == hit and run[3] + run[4] == off and t - run[0] <= MERGE_WINDOW_S:
                    run[0] = t
                    run[4] += length
                    run[6] += 1
                    return
                del self._pending[key]
                self._emit(run)
            self._pending[key] = [t, key, size, off, length, hit, 1]
            if len(self._pending) > MAX_PENDING:
                self._emit(self._pending.pop(next(iter(self._pending))))
            self._maybe_flush(force=False)

    def append_fill(self, t: float, key: str, size: int) -> None:
        """Data of `key` (a `size`-byte content) was stored: tells the replay its size."""
        with self._lock:
            self._write(f'{{"t":{t:.3f},"key":"{key}","size":{size:d},"op":"fill"}}\n')

    def flush(self) -> None:
        """Write runs that have ended (no read for MERGE_WINDOW_S) and flush the file."""
        with self._lock:
            self._maybe_flush(force=True)

    def close(self) -> None:
        with self._lock:
            for run in self._pending.values():
                self._emit(run)
            self._pending.clear()
            if self._file is not None:
                self._guard(self._file.close)
                self._file = None

    def _guard(self, io: Callable[[], object]) -> None:
        """Do a write, flush or close; on a full disk drop what is buffered (the trace is
        advice for tuning: the reads it records matter more) and say so once."""
        try:
            io()
        except OSError as e:
            if self._file is not None:
                with contextlib.suppress(OSError):
                    self._file.close()
                self._file = None
            if not self.dropped:
                log.warning(
                    "cannot write the access trace %s (%s): lines are dropped while the disk is full", self.path, e
                )
            self.dropped = True

    def _emit(self, run: list) -> None:
        t, key, size, off, length, hit, n = run
        count = f',"n":{n:d}' if n > 1 else ""
        self._write(
            f'{{"t":{t:.3f},"key":"{key}","size":{size:d},"off":{off:d},"len":{length:d},'
            f'"hit":{"true" if hit else "false"}{count}}}\n'
        )

    def _write(self, line: str) -> None:
        def write() -> None:
            if self._file is None:
                self._file = self.path.open("a", encoding="ascii")
            self._file.write(line)

        self._guard(write)

    def _maybe_flush(self, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._last_flush < self._flush_interval_s:
            return
        self._last_flush = now
        for key in [k for k, run in self._pending.items() if self._latest_t - run[0] > MERGE_WINDOW_S]:
            self._emit(self._pending.pop(key))
        if self._file is not None:
            self._guard(self._file.flush)
        if self._file is not None and self._file.tell() > self._max_bytes:
            self._file.close()
            os.replace(self.path, self.path.with_name(self.path.name + ".1"))
            self._file = None


def read_trace(path: Path) -> Iterator[Access]:
    """The accesses of a trace file (and of its rotated `.1` predecessor first, if any), in
    the order they were written (a run of reads is written when it ends).

    Sizes unknown at the time of a read (-1) are filled in from any other line about the
    same content; accesses whose size stays unknown keep -1 (the replay skips them).
    Malformed lines (a torn last line after a crash) are skipped.
    """
    sizes: dict[str, int] = {}
    for r in _records(path):
        if int(r.get("size", -1)) >= 0:
            sizes[str(r["key"])] = int(r["size"])
    for r in _records(path):
        if r.get("op") == "fill":
            continue
        try:
            key = str(r["key"])
            size = int(r["size"]) if int(r["size"]) >= 0 else sizes.get(key, -1)
            yield Access(float(r["t"]), key, size, int(r["off"]), int(r["len"]), bool(r["hit"]), int(r.get("n", 1)))
        except (ValueError, KeyError, TypeError):
            continue


def _records(path: Path) -> Iterator[dict]:
    older = path.with_name(path.name + ".1")
    for p in (older, path):
        if not p.exists():
            continue
        with p.open(encoding="ascii", errors="replace") as f:
            for line in f:
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if isinstance(r, dict) and "key" in r:
                    yield r
