"""Reused buffers for the fetcher's disc reads (`ReadBuffers`).

A chunk read from a disc is 16 MiB. Read into new bytes each time, glibc maps fresh memory
for it (the mount keeps its mmap threshold at 1 MiB so freed buffers go back to the kernel),
and every page of it costs a fault and a clear: measured, more CPU than the SHA-256 of the
chunk (BENCHMARKS.md, issue 9, fourth session). The fetcher instead takes a buffer here, has
the disc source read into it, verifies and stores it, and gives it back.

Memory stays bounded: buffers are taken only by the jobs in flight, which the fetcher bounds
(a read per drive, `FINISH_QUEUE` waiting, one per finisher); at most `KEPT` given back are
kept, and those not taken again for `idle_s` are freed by `trim` (the fetcher calls it when
it has nothing to do).

Threads: any; one leaf lock.
"""

from __future__ import annotations

import mmap
import threading
import time

KEPT = 8
"""Idle buffers kept at most (the oldest beyond are freed)."""


PAGE = mmap.PAGESIZE


class ReadBuffers:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[tuple[float, mmap.mmap]] = []  # (given back at, buffer), as given back

    def take(self, nbytes: int) -> mmap.mmap:
        """A buffer of at least `nbytes` (the smallest idle one that fits, else a new one). New
        ones are anonymous maps: page-aligned, as direct reads (O_DIRECT) need, and not cleared
        by a pass of their own (the kernel gives zeroed pages as they are first touched)."""
        with self._lock:
            fits = [i for i, (_, b) in enumerate(self._idle) if len(b) >= nbytes]
            if fits:
                best = min(fits, key=lambda i: len(self._idle[i][1]))
                return self._idle.pop(best)[1]
        return mmap.mmap(-1, -(-max(nbytes, 1) // PAGE) * PAGE, flags=mmap.MAP_PRIVATE)  # not shmem: cheaper faults

    def give(self, buffer: mmap.mmap) -> None:
        """Give a buffer back once nothing reads it any more."""
        with self._lock:
            self._idle.append((time.monotonic(), buffer))
            del self._idle[:-KEPT]

    def trim(self, idle_s: float) -> None:
        """Free the buffers given back more than `idle_s` ago."""
        cutoff = time.monotonic() - idle_s
        with self._lock:
            self._idle = [(at, b) for at, b in self._idle if at > cutoff]
