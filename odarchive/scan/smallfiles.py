"""Small files hashed during the walk, on worker processes, before their rows are written.

Most files of a real tree are small (office shares: a few kB). For them the row costs more
than the hash: the two-phase path (insert the row, read it back, hash, update it) did three
writes per file. Here the walk hands each new or changed small file (up to `SMALL_FILE`
bytes, not sparse) to a pool of processes (no shared GIL: threads for files of a few kB spent
more time handing the GIL over than hashing, see BENCHMARKS.md), in batches of `BATCH` files,
and writes each row once, with its content, when its batch comes back.

Exactness: a worker reads the file in one call and compares its fstat after the read with the
walk's stat (size, mtime, ctime); any difference sends the file to `hasher.hash_file`, which
reads it again until it holds still, and marks the directory's listing digest stale.
Resumability: a directory's listing digest is written only when every file of it that was
handed out has its row (or its skipped record), so a scan killed in between compares that
directory row by row next time and finds the missing files. Memory: at most `2 * jobs`
batches in flight. The first `POOL_AFTER_FILES` files are hashed in the main process (a small
tree is done before worker processes would have started); workers are spawned (not forked:
they must not inherit the scan's lock on the home) and die with the scan.
"""

from __future__ import annotations

import ctypes
import hashlib
import multiprocessing
import os
import signal
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor

from odarchive.catalogue.scanning import Meta, ScanRows
from odarchive.catalogue.xattrs import XattrIds
from odarchive.progress import Reporter
from odarchive.scan.hasher import HashCounts, hash_file, open_for_hash, read_xattrs

SMALL_FILE = 256 << 10
BATCH = 256
_PR_SET_PDEATHSIG = 1
# the first files are hashed here: starting worker processes (a Python each) costs more than
# hashing a few thousand small files
POOL_AFTER_FILES = 4096

Result = tuple  # (sha256, size, mtime_ns, ctime_off, xattrs text, moved, warning) or the reason it failed


def hash_small(path: bytes, size: int, mtime_ns: int, ctime_ns: int) -> Result | str:
    """Hash a small file in one read; fall back to `hash_file` if it is not as the walk saw it."""
    fd = open_for_hash(path)
    if isinstance(fd, str):
        return fd
    try:
        data = os.read(fd, size) if size else b""
        st = os.fstat(fd)
        if (len(data), st.st_size, st.st_mtime_ns, st.st_ctime_ns) == (size, size, mtime_ns, ctime_ns):
            attrs, warning = read_xattrs(fd)
            return hashlib.sha256(data).digest(), size, mtime_ns, ctime_ns - mtime_ns, attrs, False, warning
    except OSError as e:
        return f"cannot read: {e.strerror}"
    finally:
        os.close(fd)
    result = hash_file(path)
    if isinstance(result, str):
        return result
    return result.sha256, result.size, result.mtime_ns, result.ctime_off, result.xattrs, True, result.warning


def hash_batch(batch: list[tuple[bytes, int, int, int]]) -> list[Result | str]:
    return [hash_small(*item) for item in batch]


def _worker_init() -> None:
    """Workers end with the scan: Ctrl-C is the main process's to handle, and a main process
    killed with SIGKILL takes its workers with it (Linux: the parent-death signal)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the closed pipe ends them instead
        pass
    if os.getppid() == 1:  # the scan died before the signal was armed
        os._exit(1)


class SmallFiles:
    """Hands small files to worker processes and writes their rows as batches come back."""

    def __init__(self, rows: ScanRows, xattr_ids: XattrIds, jobs: int, reporter: Reporter) -> None:
        self.rows = rows
        self.xattr_ids = xattr_ids
        self.reporter = reporter
        self.counts = HashCounts()
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None
        self._task: list[tuple[int, bytes, bytes, Meta]] = []
        self._inflight: deque[tuple[Future, list]] = deque()
        self._outstanding: dict[int, int] = {}
        self._digests: dict[int, bytes | None] = {}
        self._stale: set[int] = set()
        self._handed = 0

    def add(self, node: int, files: list[tuple[bytes, bytes, Meta]]) -> None:
        """Files (name, path, meta) of directory `node` to hash and write."""
        self._outstanding[node] = self._outstanding.get(node, 0) + len(files)
        task = self._task
        for name, path, meta in files:
            task.append((node, name, path, meta))
            if len(task) >= BATCH:
                self._submit()
                task = self._task

    def listed(self, node: int, digest: bytes | None) -> None:
        """Directory `node` was compared; its digest is written once its handed-out files are in."""
        if self._outstanding.get(node):
            self._digests[node] = digest
        else:
            self.rows.set_sig(node, None if node in self._stale else digest)
            self._stale.discard(node)

    def poll(self) -> None:
        while self._inflight and self._inflight[0][0].done():
            self._store(*self._inflight.popleft())

    def flush(self) -> None:
        if self._task:
            self._submit()
        while self._inflight:
            self._store(*self._inflight.popleft())

    def close(self) -> None:
        """Stop the workers (batches not stored yet are dropped: their directories keep no digest)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _submit(self) -> None:
        task, self._task = self._task, []
        items = [(path, meta[0], meta[1], meta[1] + meta[3]) for _node, _name, path, meta in task]
        self._handed += len(items)
        if self.jobs <= 1 or self._handed <= POOL_AFTER_FILES:
            fut: Future = Future()
            fut.set_result(hash_batch(items))
        else:
            if self._pool is None:
                # spawned, not forked: a forked worker would inherit the scan's lock on the home
                # (and its catalogue connection) and keep the next scan out after a kill -9
                self._pool = ProcessPoolExecutor(
                    self.jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init
                )
            fut = self._pool.submit(hash_batch, items)
        self._inflight.append((fut, task))
        while len(self._inflight) > 2 * self.jobs:
            self._store(*self._inflight.popleft())

    def _store(self, fut: Future, task: list[tuple[int, bytes, bytes, Meta]]) -> None:
        results = fut.result()
        hashed = []
        new_contents = []
        nbytes = 0
        for (node, name, path, meta), r in zip(task, results):
            if isinstance(r, str):
                self.counts.skipped += 1
                self.rows.skip(node, name, r)
                self._stale.add(node)
                self.reporter.event("skipped", path=os.fsdecode(path), reason=r)
                continue
            sha, size, mtime_ns, ctime_off, attrs, moved, warning = r
            if moved:
                self._stale.add(node)
                meta = (size, mtime_ns, meta[2], ctime_off, *meta[4:])
            if warning:
                self.reporter.event("warning", path=os.fsdecode(path), reason=warning)
            new_contents.append((sha, size))
            hashed.append((node, name, meta, self.xattr_ids.id_for(attrs) if attrs else None))
            nbytes += size
        if hashed:
            self.counts.new_contents += self.rows.insert_hashed(hashed, new_contents)
            self.counts.files += len(hashed)
            self.counts.bytes += nbytes
        for node, *_ in task:
            left = self._outstanding[node] - 1
            if left:
                self._outstanding[node] = left
                continue
            del self._outstanding[node]
            if node in self._digests:  # else `listed` comes later and decides
                digest = self._digests.pop(node)
                self.rows.set_sig(node, None if node in self._stale else digest)
                self._stale.discard(node)
