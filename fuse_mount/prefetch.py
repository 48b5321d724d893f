"""Walked directories listed once through the kernel, so a stat storm's other lookups never reach the mount.

A program that stats every file of a tree by name (`rsync`, backup tools, photo viewers, a
script's `os.lstat` loop) makes the kernel send one FUSE lookup per name: a round trip through
the kernel, libfuse and Python each, about three quarters of such a pass's time. No request
lets a file system hand the kernel names it did not ask for, but a listing with readdirplus
does give it every entry with its attributes (`fuse_lib.OdarchiveFUSE.readdir_fuse_3`). So
when the `Vfs` reports a directory being walked (a third name looked up one by one in a
directory small enough to be read whole, `Vfs.on_walk`), this module lists that directory
through the mount point from its own thread: one reply carries a few hundred entries, and the
walk's next names are answered from the kernel's caches, as in a second pass.

Bounds: one listing at a time, at most `QUEUED` directories waiting (more are dropped: the
lookups still work, one by one), each directory listed once until `forget` (called when the
tree changes: what the kernel then forgets may be listed again), at most `DONE` remembered.
What the kernel holds is what any `ls -l` of those directories would leave, under the same
timeouts and invalidations.

Threads: `walked` may be called from any FUSE thread and never blocks or enters the mount; the
listing runs on this module's own thread (a FUSE callback that listed its own mount could wait
for itself). A listing holds the directory open for the milliseconds it takes, so an unmount
in those milliseconds may find the mount busy (`odarchive umount` tries again).
"""

from __future__ import annotations

import logging
import os
import queue
import threading

from fuse_mount.memo import Lru

QUEUED = 64
"""Directories waiting to be listed at most."""
DONE = 4096
"""Directories remembered as listed (until the tree changes)."""

log = logging.getLogger("odarchive.mount.prefetch")


class KernelPrefetcher:
    """Lists walked directories of the mount at `mountpoint` through the kernel (above)."""

    def __init__(self, mountpoint: str) -> None:
        self._mountpoint = os.fsencode(os.path.abspath(mountpoint)).rstrip(b"/")
        self._queue: queue.Queue[bytes | None] = queue.Queue(QUEUED)
        self._done: Lru[bytes, bool] = Lru(DONE)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.listed = 0
        """Directories listed so far (for tests and the log)."""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="odarchive-prefetch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                pass  # a daemon thread: it ends with the process

    def walked(self, path: bytes) -> None:
        """`path` (absolute in the mount, b"/a/b") is being walked name by name: list it soon."""
        with self._lock:
            if self._done.get(path):
                return
            self._done.put(path, True)
        try:
            self._queue.put_nowait(path)
        except queue.Full:
            with self._lock:
                self._done.pop(path)

    def forget(self) -> None:
        """The tree changed: any directory may be listed again."""
        with self._lock:
            self._done.clear()

    def _run(self) -> None:
        while (path := self._queue.get()) is not None:
            try:
                with os.scandir(self._mountpoint + path) as entries:
                    for _ in entries:
                        pass
                self.listed += 1
            except OSError as e:  # gone since (a refresh), or the mount is ending
                log.debug("could not list %r ahead: %s", path, e)
