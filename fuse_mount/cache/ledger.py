"""In-memory counters, access times and open handles, batched into the index every second.

Counting a hit with an SQL write on every FUSE read would cost more than the read itself, so
reads, opens and closes only touch this ledger (under its own leaf lock); `Cache` drains it
into the index while holding `Cache._db`, at most every `interval_s`, before any eviction
decision and on `stats()`/`close()`. Open handles are also answered from memory
(`is_open`), so this process never evicts what it has open even between two drains; other
processes (the command line) see them after the next drain (within a second). An open and
close within the same second costs no SQL at all (small cached files read 4.5k/s with an
SQL write per open and close; see BENCHMARKS.md for the figure without).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass


@dataclass(frozen=True)
class Drained:
    counters: dict[str, float]
    wait_max_s: float
    touches: list[tuple[float, int, str, int]]  # (last_access_s, hits, key, idx)
    handles: dict[str, int]  # key -> change in open handles since the last drain

    def __bool__(self) -> bool:
        return bool(self.counters or self.touches or self.wait_max_s or self.handles)


class Ledger:
    def __init__(self, interval_s: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._interval_s = interval_s
        self._counters: defaultdict[str, float] = defaultdict(float)
        self._wait_max_s = 0.0
        self._touches: dict[tuple[str, int], list[float]] = {}
        self._open: dict[str, int] = {}
        self._handle_deltas: defaultdict[str, int] = defaultdict(int)
        self._last_drain = time.monotonic()

    def hit(self, key: str, idxs: list[int], nbytes: int, now_s: float) -> None:
        with self._lock:
            self._counters["hits"] += 1
            self._counters["bytes_served"] += nbytes
            for idx in idxs:
                t = self._touches.setdefault((key, idx), [now_s, 0])
                t[0] = now_s
                t[1] += 1

    def add(self, name: str, amount: float = 1) -> None:
        with self._lock:
            self._counters[name] += amount

    def wait(self, seconds: float) -> None:
        with self._lock:
            self._counters["waits"] += 1
            self._counters["wait_total_s"] += seconds
            self._wait_max_s = max(self._wait_max_s, seconds)

    def handle(self, key: str, delta: int) -> None:
        """An open (+1) or a close (-1) of `key` in this process; a close of what is not
        open is ignored."""
        with self._lock:
            n = self._open.get(key, 0) + delta
            if n < 0:
                return
            if n:
                self._open[key] = n
            else:
                del self._open[key]
            self._handle_deltas[key] += delta

    def close_all(self) -> None:
        """Close every handle still open (the cache is closing)."""
        with self._lock:
            for key, n in self._open.items():
                self._handle_deltas[key] -= n
            self._open.clear()

    def is_open(self, key: str) -> bool:
        with self._lock:
            return key in self._open

    def due(self) -> bool:
        return time.monotonic() - self._last_drain >= self._interval_s

    def restore(self, drained: Drained) -> None:
        """Put back what could not be written (the index's disk was full)."""
        with self._lock:
            for name, value in drained.counters.items():
                self._counters[name] += value
            self._wait_max_s = max(self._wait_max_s, drained.wait_max_s)
            for key, delta in drained.handles.items():
                self._handle_deltas[key] += delta
            for t, n, key, idx in drained.touches:
                touch = self._touches.setdefault((key, idx), [t, 0])
                touch[0] = max(touch[0], t)
                touch[1] += n

    def drain(self) -> Drained:
        with self._lock:
            out = Drained(
                dict(self._counters),
                self._wait_max_s,
                [(t, int(n), key, idx) for (key, idx), (t, n) in self._touches.items()],
                {k: d for k, d in self._handle_deltas.items() if d},
            )
            self._handle_deltas.clear()
            self._counters.clear()
            self._touches.clear()
            self._wait_max_s = 0.0
            self._last_drain = time.monotonic()
        return out
