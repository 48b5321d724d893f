"""A thread that runs the walk's small-file writes while the walk goes on.

For a tree of tiny files the catalogue's inserts are half of a scan's CPU. sqlite3 releases
the GIL while SQLite steps a statement, so running them on a thread of their own lets the
walk (scandir, lstat, read, hash) use the other core meanwhile. Calls run in the order they
were submitted, on the scan's one connection (SQLite serializes them with the walk's own
statements; ScanRows hands out entry ids under a lock). The queue holds at most `DEPTH`
calls (memory: a few batches). A commit must first `drain` the queue, so every transaction
holds all the calls submitted before it: what a kill -9 leaves is what it left before this
thread. After a failed call, later calls are dropped (a directory's digest submitted after
its rows never lands without them) and the error is raised in the walk at its next submit
or drain. Without `threaded` (a connection only its own thread may use) calls run at once.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

DEPTH = 4


class Writer:
    """Runs submitted calls in order on one thread, started at the first call (`threaded`), or at once."""

    def __init__(self, threaded: bool) -> None:
        self._threaded = threaded
        self._calls: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = queue.Queue(DEPTH)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        self._raise()
        if not self._threaded:
            fn(*args)
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="scan-writer", daemon=True)
            self._thread.start()
        self._calls.put((fn, args))

    def drain(self) -> None:
        """Wait until every submitted call has run; raise the first error of one."""
        if self._thread is not None:
            self._calls.join()
        self._raise()

    def close(self) -> None:
        """Run what was submitted, then end the thread (errors are kept for `drain`)."""
        if self._thread is not None:
            self._calls.put(None)
            self._thread.join()
            self._thread = None

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while True:
            call = self._calls.get()
            try:
                if call is None:
                    return
                if self._error is None:
                    call[0](*call[1])
            except BaseException as e:
                self._error = e
            finally:
                self._calls.task_done()
