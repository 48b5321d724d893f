"""Hash phase of a scan: SHA-256 of every file of the snapshot that has no content yet.

Small files are hashed during the walk (`odarchive.scan.smallfiles`); what is left here are
large and sparse files, and files of an interrupted scan. They are hashed on a pool of threads
(hashlib releases the GIL on large updates; reads are 1 MiB blocks). The main thread streams
the rows to hash from SQLite, keeps a bounded number in flight, and writes results in batched
transactions, so a hash phase interrupted at any point continues with the files still
without content. Contents larger than `CHUNKED_MIN_CHUNKS` chunks get their chunk hashes
recorded on the same read (odarchive.catalogue.chunks). The first `EARLY_FILES` of them are
hashed already during the walk (`EarlyHashes`), beside it: the hash phase takes those results.

A file is opened without following symlinks and without blocking (a FIFO that replaced a
file cannot hang the scan), checked to be a regular file, and stat-ed before and after
reading: if it changed while being read it is read again (up to `RETRIES` times), then
recorded as skipped ("changed while being read"): never a wrong hash. Unreadable or vanished
files are recorded as skipped with the reason and their entry removed from the snapshot.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

from odarchive.catalogue import chunks as chunk_hashes
from odarchive.catalogue import xattrs
from odarchive.catalogue.scanning import ScanRows
from odarchive.catalogue.tree import node_path
from odarchive.catalogue.xattrs import XattrIds
from odarchive.progress import Reporter

BLOCK = 1 << 20
RETRIES = 3
BATCH_SECONDS = 2.0
TASK_FILES = 64
TASK_BYTES = 32 << 20
ONE_READ = 256 << 10
EARLY_FILES = 64


@dataclass(frozen=True)
class HashResult:
    sha256: bytes
    size: int
    mtime_ns: int
    ctime_off: int
    xattrs: str | None  # encoded set (odarchive.catalogue.xattrs), None: none
    warning: str | None  # attributes that could not be read
    chunks: list[tuple[int, bytes]]  # (chunk, sha256) when chunk hashes were asked for


@dataclass
class HashCounts:
    files: int = 0
    bytes: int = 0
    skipped: int = 0
    new_contents: int = 0


_NOATIME = getattr(os, "O_NOATIME", 0)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | _NOATIME


def open_for_hash(path: bytes) -> int | str:
    """An fd of `path` opened for hashing, or the reason it cannot be opened."""
    try:
        try:
            return os.open(path, _OPEN_FLAGS)
        except PermissionError:  # O_NOATIME needs ownership; retry without it
            return os.open(path, _OPEN_FLAGS & ~_NOATIME)
    except FileNotFoundError:
        return "vanished during the scan"
    except OSError as e:
        return f"cannot open: {e.strerror}"


def read_xattrs(fd: int) -> tuple[str | None, str | None]:
    """(encoded archived attributes or None, warning or None) of an open file."""
    try:
        attrs = xattrs.read(fd)
    except OSError as e:
        return None, f"extended attributes not archived: {e.strerror}"
    return (xattrs.encode(attrs) if attrs else None), None


class Cancelled(Exception):
    """A hash given up because its `stop` event was set (the scan is ending)."""


def hash_file(path: bytes, chunk_size: int | None = None, stop: threading.Event | None = None) -> HashResult | str:
    """The hash and stat of a stable regular file, or the reason it cannot be had. With
    `chunk_size`, the SHA-256 of every chunk of that size too. Raises `Cancelled` when `stop`
    is set while it reads (checked at every block)."""
    for _ in range(RETRIES):
        fd = open_for_hash(path)
        if isinstance(fd, str):
            return fd
        try:
            before = os.fstat(fd)
            if not stat.S_ISREG(before.st_mode):
                return "no longer a regular file"
            size = before.st_size
            sparse = before.st_blocks * 512 < size
            chunks = _Chunks(chunk_size) if chunk_size else None
            if size <= ONE_READ and not sparse and chunks is None:  # one read, one hash call: most files
                h = hashlib.sha256(os.read(fd, size))
            else:
                h = hashlib.sha256()
                _hash_fd(fd, size, sparse, h, chunks, stop)
            after = os.fstat(fd)
            attrs, warning = read_xattrs(fd)
        except OSError as e:
            return f"cannot read: {e.strerror}"
        finally:
            os.close(fd)
        if (before.st_size, before.st_mtime_ns, before.st_ctime_ns) == (
            after.st_size,
            after.st_mtime_ns,
            after.st_ctime_ns,
        ):
            done = chunks.finish() if chunks is not None else []
            return HashResult(
                h.digest(),
                after.st_size,
                after.st_mtime_ns,
                after.st_ctime_ns - after.st_mtime_ns,
                attrs,
                warning,
                done,
            )
    return "changed while being read (unstable); scan again when it is quiet"


class _Chunks:
    """SHA-256 of consecutive chunks of the bytes fed to it."""

    def __init__(self, chunk_size: int) -> None:
        self.chunk_size = chunk_size
        self.done: list[tuple[int, bytes]] = []
        self.h = hashlib.sha256()
        self.filled = 0

    def update(self, data: memoryview | bytes) -> None:
        view = memoryview(data)
        while view:
            take = min(len(view), self.chunk_size - self.filled)
            self.h.update(view[:take])
            self.filled += take
            view = view[take:]
            if self.filled == self.chunk_size:
                self.done.append((len(self.done), self.h.digest()))
                self.h, self.filled = hashlib.sha256(), 0

    def finish(self) -> list[tuple[int, bytes]]:
        if self.filled:
            self.done.append((len(self.done), self.h.digest()))
            self.filled = 0
        return self.done


_ZEROS = bytes(BLOCK)
_local = threading.local()


def _buffer() -> memoryview:
    """This thread's read buffer: allocating 1 MiB per file would cost more than reading a
    small file."""
    view = getattr(_local, "view", None)
    if view is None:
        view = _local.view = memoryview(bytearray(BLOCK))
    return view


def _hash_fd(
    fd: int, size: int, sparse: bool, h: hashlib._Hash, chunks: _Chunks | None, stop: threading.Event | None
) -> None:
    """Feed the file's bytes to `h` (and `chunks`). Holes of a sparse file are hashed as zeros
    without being read (SEEK_DATA/SEEK_HOLE): reading holes costs the kernel as much as reading data."""
    view = _buffer()

    def feed(data: memoryview | bytes) -> None:
        if stop is not None and stop.is_set():
            raise Cancelled
        h.update(data)
        if chunks is not None:
            chunks.update(data)

    pos = 0
    while True:
        if sparse:
            try:
                data = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:  # ENXIO: only a hole up to the end (or no SEEK_DATA support)
                data = max(size, pos)
            for start in range(pos, data, BLOCK):
                feed(_ZEROS[: min(BLOCK, data - start)])
            if data >= size:
                os.lseek(fd, data, os.SEEK_SET)
                # bytes appended since the stat are read normally (and caught by the after-stat)
                pos = data
                sparse = False
                continue
            hole = os.lseek(fd, data, os.SEEK_HOLE)
            os.lseek(fd, data, os.SEEK_SET)
            pos = data
            while pos < hole:
                n = os.readv(fd, [view[: min(BLOCK, hole - pos)]])
                if not n:
                    return
                feed(view[:n])
                pos += n
            continue
        if pos >= size:  # no read to find EOF: a file that grew is caught by the after-stat
            return
        n = os.readv(fd, [view[: min(BLOCK, size - pos)]])
        if not n:
            return
        feed(view[:n])
        pos += n


class EarlyHashes:
    """Large files hashed on threads while the walk goes on (reading and hashing 1 MiB blocks
    run without the GIL), so a tree of small files and a few large ones takes the longer of the
    two, not their sum. Results stay in memory until the hash phase takes them (at most
    `EARLY_FILES`; later files wait for the hash phase), keyed by path: a result is what
    `hash_file` would have returned then, with the stat of the bytes it read, so the hash phase
    stores it as if it had hashed the file at that moment (and marks the directory's digest
    stale if that stat is not the walk's). Nothing is written from here: a scan killed before
    the hash phase hashes these files again."""

    def __init__(self, jobs: int, chunk_size: int) -> None:
        self.jobs = max(1, jobs)
        self.chunk_size = chunk_size
        self._pool: ThreadPoolExecutor | None = None
        self._results: dict[bytes, Future] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def submit(self, path: bytes, size: int) -> None:
        """Start hashing the file the walk saw at `path` with `size` bytes (if room is left)."""
        if len(self._results) >= EARLY_FILES or path in self._results:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="early-hash")
        chunks = self.chunk_size if chunk_hashes.wants_chunk_hashes(size, self.chunk_size) else None
        self._results[path] = self._pool.submit(hash_file, path, chunks, self._stop)

    def take(self, path: bytes) -> HashResult | str | None:
        """The result for `path` (waiting for it), or None if it was not hashed early."""
        with self._lock:
            fut = self._results.pop(path, None)
        return fut.result() if fut is not None else None

    def close(self) -> None:
        """Drop what was not taken; hashes still running stop at their next block (a Ctrl-C
        during the walk does not wait for a large file to be read to its end)."""
        self._stop.set()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._results.clear()


@dataclass(frozen=True)
class _Done:
    entry_id: int
    dir_id: int
    name: bytes
    path: bytes
    result: HashResult | str
    moved: bool  # size, mtime or ctime differ from what the walk recorded


class Hasher:
    """Hashes the files of snapshot `snap` that have no content, with `jobs` threads."""

    def __init__(
        self,
        rows: ScanRows,
        source_path: bytes,
        jobs: int,
        chunk_size: int,
        reporter: Reporter,
        early: EarlyHashes | None = None,
    ) -> None:
        self.rows = rows
        self.early = early
        self.source_path = source_path
        self.jobs = max(1, jobs)
        self.chunk_size = chunk_size
        self.reporter = reporter
        self.counts = HashCounts()
        self.xattr_ids = XattrIds(rows.conn)
        self._path_of_dir = lru_cache(maxsize=1024)(self._abs_dir)

    def run(self) -> HashCounts:
        """Hash everything pending, in batches of `TASK_FILES` files or `TASK_BYTES` bytes."""
        inflight: deque[Future] = deque()
        last_commit = time.monotonic()
        self.rows.begin()
        try:
            with ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="hash") as pool:
                for task in self._tasks():
                    inflight.append(pool.submit(self._hash_task, task))
                    while len(inflight) >= self.jobs * 2 or (inflight and inflight[0].done()):
                        self._store(inflight.popleft().result())
                    if time.monotonic() - last_commit >= BATCH_SECONDS:
                        self.rows.commit()
                        self.rows.begin()
                        last_commit = time.monotonic()
                while inflight:
                    self._store(inflight.popleft().result())
            self.rows.commit()
        except BaseException:
            for f in inflight:
                f.cancel()
            self.rows.commit_if_open()  # keep finished hashes: the next run continues from them
            raise
        return self.counts

    def _tasks(self) -> Iterator[list[tuple]]:
        task: list[tuple] = []
        task_bytes = 0
        for entry_id, dir_id, name, size, mtime_ns, ctime_off in self.rows.unhashed():
            task.append((entry_id, dir_id, name, self._path_of_dir(dir_id) + b"/" + name, (size, mtime_ns, ctime_off)))
            task_bytes += size
            if len(task) >= TASK_FILES or task_bytes >= TASK_BYTES:
                yield task
                task, task_bytes = [], 0
        if task:
            yield task

    def _hash_task(self, task: list[tuple]) -> list[_Done]:
        out = []
        for entry_id, dir_id, name, path, walked in task:
            r = self.early.take(path) if self.early is not None else None
            if r is None:
                want_chunks = chunk_hashes.wants_chunk_hashes(walked[0], self.chunk_size)
                r = hash_file(path, self.chunk_size if want_chunks else None)
            moved = not isinstance(r, str) and (r.size, r.mtime_ns, r.ctime_off) != walked
            out.append(_Done(entry_id, dir_id, name, path, r, moved))
        return out

    def _abs_dir(self, dir_id: int) -> bytes:
        rel = node_path(self.rows.conn, dir_id)  # root name first
        _, _, rest = rel.partition(b"/")
        return self.source_path + (b"/" + rest if rest else b"")

    def _store(self, results: list[_Done]) -> None:
        conn = self.rows.conn
        hashed = [(d, d.result) for d in results if not isinstance(d.result, str)]
        for d in results:
            if isinstance(d.result, str):
                self.counts.skipped += 1
                self.rows.drop_entry(d.entry_id)
                self.rows.forget_sigs([d.dir_id])  # rows no longer match
                self.rows.skip(d.dir_id, d.name, d.result)
                self.reporter.event("skipped", path=os.fsdecode(d.path), reason=d.result)
        if not hashed:
            return
        rows = []
        for d, r in hashed:
            if r.warning:
                self.reporter.event("warning", path=os.fsdecode(d.path), reason=r.warning)
            rows.append(
                (
                    r.sha256,
                    r.size,
                    r.mtime_ns,
                    r.ctime_off,
                    self.xattr_ids.id_for(r.xattrs) if r.xattrs else None,
                    d.entry_id,
                )
            )
        ids, new = self.rows.set_contents(rows)
        self.counts.new_contents += new
        for (_d, r), cid in zip(hashed, ids):
            if r.chunks:
                chunk_hashes.record(conn, [(cid, i, h) for i, h in r.chunks])
        # the stored stat is not what the walk listed: the listing digest no longer holds
        self.rows.forget_sigs({d.dir_id for d, _r in hashed if d.moved})
        nbytes = sum(r.size for _d, r in hashed)
        self.counts.files += len(hashed)
        self.counts.bytes += nbytes
        self.reporter.advance(items=len(hashed), nbytes=nbytes)
