"""The access trace: one JSON line per read, for `replay.py` to tune eviction with.

A line is `{"t": 1764220000.123, "key": "<sha256>", "size": 123, "off": 0, "len": 4096,
"hit": true}` (time in seconds since the epoch; the read's offset and length after clamping to
the content's size). A miss on a content the cache has never seen has size -1 unless the
reader passed it; the cache then writes `{"t": ..., "key": ..., "size": 123, "op": "fill"}`
when the fetched data is stored, and `read_trace` fills the size in from that. Lines are buffered and flushed at least every second and on close; the
file is rotated to `<name>.1` when it grows past `max_bytes`, so at most twice that is kept.
The writer has its own leaf lock (taken last; see the lock order in cache.py).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator


@dataclass(frozen=True)
class Access:
    t: float
    key: str
    size: int
    off: int
    len: int
    hit: bool


class TraceWriter:
    def __init__(self, path: Path, max_bytes: int, flush_interval_s: float = 1.0) -> None:
        self.path = path
        self._max_bytes = max_bytes
        self._flush_interval_s = flush_interval_s
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self._last_flush = time.monotonic()

    def append(self, access: Access) -> None:
        self._write({"t": round(access.t, 3), "key": access.key, "size": access.size,
                     "off": access.off, "len": access.len, "hit": access.hit})

    def append_fill(self, t: float, key: str, size: int) -> None:
        """Data of `key` (a `size`-byte content) was stored: tells the replay its size."""
        self._write({"t": round(t, 3), "key": key, "size": size, "op": "fill"})

    def _write(self, record: dict[str, object]) -> None:
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self._lock:
            if self._file is None:
                self._file = self.path.open("a", encoding="ascii")
            self._file.write(line)
            now = time.monotonic()
            if now - self._last_flush >= self._flush_interval_s:
                self._last_flush = now
                self._file.flush()
                if self._file.tell() > self._max_bytes:
                    self._file.close()
                    os.replace(self.path, self.path.with_name(self.path.name + ".1"))
                    self._file = None

    def flush(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def read_trace(path: Path) -> Iterator[Access]:
    """The accesses of a trace file (and of its rotated `.1` predecessor first, if any).

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
            yield Access(float(r["t"]), key, size, int(r["off"]), int(r["len"]), bool(r["hit"]))
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
