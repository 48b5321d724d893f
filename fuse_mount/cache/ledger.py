"""In-memory counters and access times, batched into the index every second.

Counting a hit with an SQL write on every FUSE read would cost more than the read itself, so
reads only touch this ledger (under its own lock, `Cache._mem` in the lock order); `Cache`
drains it into the index while holding `Cache._db`, at most every `interval_s`, before any
eviction decision and on `stats()`/`close()`.
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

    def __bool__(self) -> bool:
        return bool(self.counters or self.touches or self.wait_max_s)


class Ledger:
    def __init__(self, interval_s: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._interval_s = interval_s
        self._counters: defaultdict[str, float] = defaultdict(float)
        self._wait_max_s = 0.0
        self._touches: dict[tuple[str, int], list[float]] = {}
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

    def due(self) -> bool:
        return time.monotonic() - self._last_drain >= self._interval_s

    def restore(self, drained: Drained) -> None:
        """Put back what could not be written (the index's disk was full)."""
        with self._lock:
            for name, value in drained.counters.items():
                self._counters[name] += value
            self._wait_max_s = max(self._wait_max_s, drained.wait_max_s)
            for t, n, key, idx in drained.touches:
                touch = self._touches.setdefault((key, idx), [t, 0])
                touch[0] = max(touch[0], t)
                touch[1] += n

    def drain(self) -> Drained:
        with self._lock:
            out = Drained(
                dict(self._counters), self._wait_max_s,
                [(t, int(n), key, idx) for (key, idx), (t, n) in self._touches.items()],
            )
            self._counters.clear()
            self._touches.clear()
            self._wait_max_s = 0.0
            self._last_drain = time.monotonic()
        return out
