"""Worker processes that hash batches of small files while the walk goes on.

A small file costs the scan a few microseconds of reading and hashing and as many of catalogue
rows; in one process they add up (BENCHMARKS.md, "Issue 11: helper processes beside the walk").
Here the reading and hashing of each batch runs in another process, so the walking process
only walks (or, with `odarchive.scan.lister`, compares) and writes rows. Threads would not do: for files of a few kB every open, read and
hash gives up and takes back the GIL, and the two threads queue on it.

The processes come from a fork server (the walking process holds the catalogue's connection
and may run threads: it is never forked), started only once a scan has more than
`INLINE_BATCHES` batches of small files, so a small tree never pays for them. They ignore
Ctrl-C: the walking process stops them; and each ends as soon as the walking process does, even
killed with SIGKILL (it watches that process's pidfd: nothing else would end it, as its task
queue stays open in it). If one dies (killed, out of memory), or they cannot start (no
/dev/shm for their queues' semaphores), its batches and every later one are hashed in the
walking process instead, after one warning.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Generic, TypeVar

from odarchive.jobs import pid_alive

INLINE_BATCHES = 64
"""Batches hashed in the walking process before the workers start (16,384 files): starting the
fork server and a worker costs about what hashing 20,000 tiny files does (a tree of 20,000 small
files and a large one took 0.91 s instead of 0.85 s with them started after 1,024)."""
NICE = 10
"""Workers run this much nicer than the scan: the walking process is what the scan waits for,
so on a machine with fewer free cores than processes it keeps its core."""
IN_FLIGHT = 8
"""Batches per worker sent and not yet handed back, at most: with 2, the walk waited for them
a tenth of its time (a worker descheduled by the lister or another program)."""

Key = TypeVar("Key")
Job = TypeVar("Job")
Out = TypeVar("Out")


def _worker_start(scanner: int) -> None:
    """In each worker: leave Ctrl-C to the scanning process `scanner`, and end with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICE)
    threading.Thread(target=_end_with, args=(scanner,), name="end-with-scan", daemon=True).start()


def _end_with(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no pidfd (Linux before 5.3): ask once a second
        while pid_alive(pid):
            time.sleep(1)
    else:
        select.select([fd], [], [])  # readable once the process has ended
    os._exit(0)


class HashWorkers(Generic[Key, Job, Out]):
    """Runs `work(job)` for each batch, in `processes` worker processes (0: in this process),
    and hands each batch's output to `done(key, output)` in submission order, in this process
    (`key`: what the caller needs to store it; only `job` is sent to a worker). At most `IN_FLIGHT`
    batches per process are in flight (memory: those batches)."""

    def __init__(
        self,
        work: Callable[[Job], Out],
        done: Callable[[Key, Out], None],
        processes: int,
        warn: Callable[[str], None],
        preload: tuple[str, ...] = (),
    ) -> None:
        self._work = work
        self._done = done
        self._processes = processes
        self._warn = warn
        self._preload = list(preload)
        self._pool: ProcessPoolExecutor | None = None
        self._queue: deque[tuple[Key, Job, Future[Out]]] = deque()
        self._batches = 0

    def submit(self, key: Key, job: Job) -> None:
        self._batches += 1
        pool = self._pool_now()
        if pool is not None:
            try:
                future = pool.submit(self._work, job)
            except (OSError, RuntimeError) as e:  # BrokenProcessPool is a RuntimeError
                self._broken(f"the hashing worker processes could not start ({e})")
                self._drain(0)  # the batches before this one first, in order
            else:
                self._queue.append((key, job, future))
                self._drain(IN_FLIGHT * self._processes)
                return
        self._done(key, self._work(job))

    def flush(self) -> None:
        """Wait for every batch in flight and hand its output over."""
        self._drain(0)

    def close(self) -> None:
        """Stop the workers; batches still in flight are dropped (not handed over)."""
        self._queue.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    @property
    def started(self) -> bool:
        return self._pool is not None

    def _pool_now(self) -> ProcessPoolExecutor | None:
        if self._pool is None and self._processes > 0 and self._batches > INLINE_BATCHES:
            try:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(self._preload)
                self._pool = ProcessPoolExecutor(
                    self._processes, context, initializer=_worker_start, initargs=(os.getpid(),)
                )
            except (OSError, ValueError) as e:  # no semaphores (no /dev/shm), no fork server
                self._broken(f"the hashing worker processes could not start ({e})")
        return self._pool

    def _drain(self, keep: int) -> None:
        """Hand over finished batches in order, waiting while more than `keep` are in flight."""
        while self._queue and (len(self._queue) > keep or self._queue[0][2].done()):
            key, job, future = self._queue.popleft()
            try:
                out = future.result()
            except BrokenProcessPool:
                self._broken("a hashing worker process ended unexpectedly")
                out = self._work(job)
            except CancelledError:  # left queued when the workers stopped (`_broken`): hashed here
                out = self._work(job)
            self._done(key, out)

    def _broken(self, why: str) -> None:
        if self._processes:
            self._warn(f"{why}; hashing in the scanning process")
            self._processes = 0
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
