"""Hash phase of a scan: SHA-256 of every file of the snapshot that has no content yet.

Files are hashed on a pool of threads (hashlib releases the GIL on large updates; reads are
1 MiB blocks). The main thread streams the rows to hash from SQLite, keeps a bounded number
in flight, and writes results in batched transactions, so a hash phase interrupted at any
point continues with the files still without content.

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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

from odarchive.catalogue import Catalogue
from odarchive.catalogue.tree import dir_path
from odarchive.progress import Reporter

BLOCK = 1 << 20
RETRIES = 3
BATCH_SECONDS = 2.0
TASK_FILES = 64
TASK_BYTES = 32 << 20
SMALL_FILE = 256 << 10


@dataclass(frozen=True)
class Hashed:
    entry_id: int
    sha256: bytes
    size: int
    mtime_ns: int
    ino: int
    dir_id: int
    moved: bool  # size, mtime or inode differ from what the walk recorded


@dataclass(frozen=True)
class Failed:
    entry_id: int
    dir_id: int
    name: bytes
    path: bytes
    reason: str


@dataclass
class HashCounts:
    files: int = 0
    bytes: int = 0
    skipped: int = 0
    new_contents: int = 0


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOATIME", 0)


def hash_file(path: bytes) -> tuple[bytes, int, int, int] | str:
    """(sha256, size, mtime_ns, ino) of a stable regular file, or the reason it cannot be had."""
    flags = _OPEN_FLAGS
    for _ in range(RETRIES):
        try:
            try:
                fd = os.open(path, flags)
            except PermissionError:  # O_NOATIME needs ownership; retry without it
                fd = os.open(path, flags & ~getattr(os, "O_NOATIME", 0))
        except FileNotFoundError:
            return "vanished during the scan"
        except OSError as e:
            return f"cannot open: {e.strerror}"
        try:
            before = os.fstat(fd)
            if not stat.S_ISREG(before.st_mode):
                return "no longer a regular file"
            size = before.st_size
            sparse = before.st_blocks * 512 < size
            if size <= SMALL_FILE and not sparse:  # one read, one hash call: most files
                h = hashlib.sha256(os.read(fd, size))
            else:
                h = hashlib.sha256()
                _hash_fd(fd, size, sparse, h)
            after = os.fstat(fd)
        except OSError as e:
            return f"cannot read: {e.strerror}"
        finally:
            os.close(fd)
        if (before.st_size, before.st_mtime_ns, before.st_ctime_ns) == (after.st_size, after.st_mtime_ns, after.st_ctime_ns):
            return h.digest(), after.st_size, after.st_mtime_ns, after.st_ino
    return "changed while being read (unstable); scan again when it is quiet"


_ZEROS = bytes(BLOCK)
_local = threading.local()


def _buffer() -> memoryview:
    """This thread's read buffer: allocating 1 MiB per file would cost more than reading a
    small file."""
    view = getattr(_local, "view", None)
    if view is None:
        view = _local.view = memoryview(bytearray(BLOCK))
    return view


def _hash_fd(fd: int, size: int, sparse: bool, h: "hashlib._Hash") -> None:
    """Feed the file's bytes to `h`. Holes of a sparse file are hashed as zeros without being
    read (SEEK_DATA/SEEK_HOLE): reading holes costs the kernel as much as reading data."""
    view = _buffer()
    pos = 0
    while True:
        if sparse:
            try:
                data = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:  # ENXIO: only a hole up to the end (or no SEEK_DATA support)
                data = max(size, pos)
            for start in range(pos, data, BLOCK):
                h.update(_ZEROS[: min(BLOCK, data - start)])
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
                h.update(view[:n])
                pos += n
            continue
        if pos >= size:  # no read to find EOF: a file that grew is caught by the after-stat
            return
        n = os.readv(fd, [view[: min(BLOCK, size - pos)]])
        if not n:
            return
        h.update(view[:n])
        pos += n


class Hasher:
    """Hashes the files of snapshot `snap` that have no content, with `jobs` threads."""

    def __init__(self, cat: Catalogue, snap: int, source_path: bytes, root_dir: int, jobs: int, reporter: Reporter) -> None:
        self.cat = cat
        self.snap = snap
        self.source_path = source_path
        self.root_dir = root_dir
        self.jobs = max(1, jobs)
        self.reporter = reporter
        self.counts = HashCounts()
        self._path_of_dir = lru_cache(maxsize=1024)(self._abs_dir)

    def pending(self) -> tuple[int, int]:
        """(files, bytes) still to hash."""
        n, b = self.cat.conn.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM entries"
            " WHERE first_snap=? AND kind='f' AND content_id IS NULL",
            (self.snap,),
        ).fetchone()
        return n, b

    def run(self) -> HashCounts:
        """Hash everything pending. Large files go to the threads in batches (`TASK_FILES` files
        or `TASK_BYTES` bytes); small ones are hashed right here, between stores: handing a
        file of a few kB to a thread costs more in GIL hand-offs than hashing it (measured:
        `--jobs 2` used twice the system time of `--jobs 1` on the benchmark tree)."""
        conn = self.cat.conn
        inflight: deque[Future] = deque()
        last_commit = time.monotonic()
        conn.execute("BEGIN IMMEDIATE")
        try:
            with ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="hash") as pool:
                for small, task in self._tasks():
                    if small:
                        self._store(_hash_task(task))
                    else:
                        inflight.append(pool.submit(_hash_task, task))
                    while len(inflight) >= self.jobs * 2 or (inflight and inflight[0].done()):
                        self._store(inflight.popleft().result())
                    if time.monotonic() - last_commit >= BATCH_SECONDS:
                        conn.execute("COMMIT")
                        conn.execute("BEGIN IMMEDIATE")
                        last_commit = time.monotonic()
                while inflight:
                    self._store(inflight.popleft().result())
            conn.execute("COMMIT")
        except BaseException:
            for f in inflight:
                f.cancel()
            if conn.in_transaction:
                conn.execute("COMMIT")  # keep finished hashes: the next run continues from them
            raise
        return self.counts

    def _tasks(self) -> Iterator[tuple[bool, list[tuple]]]:
        """(small, files) batches: small files (under SMALL_FILE bytes) and large ones apart."""
        batches: dict[bool, tuple[list[tuple], int]] = {True: ([], 0), False: ([], 0)}
        for entry_id, dir_id, name, size, mtime_ns, ino in self._todo():
            small = size < SMALL_FILE
            task, task_bytes = batches[small]
            task.append((entry_id, dir_id, name, self._path_of_dir(dir_id) + b"/" + name, (size, mtime_ns, ino)))
            task_bytes += size
            if len(task) >= TASK_FILES or task_bytes >= TASK_BYTES:
                yield small, task
                task, task_bytes = [], 0
            batches[small] = (task, task_bytes)
        for small, (task, _) in batches.items():
            if task:
                yield small, task

    def _todo(self) -> Iterator[tuple[int, int, bytes, int, int, int]]:
        # Read in id order in pages, so the cursor never spans our own writes.
        last = 0
        while True:
            rows = self.cat.conn.execute(
                "SELECT id, dir_id, name, size, mtime_ns, ino FROM entries WHERE first_snap=? AND kind='f' AND content_id IS NULL"
                " AND id > ? ORDER BY id LIMIT 2000",
                (self.snap, last),
            ).fetchall()
            if not rows:
                return
            yield from rows
            last = rows[-1][0]

    def _abs_dir(self, dir_id: int) -> bytes:
        rel = dir_path(self.cat, dir_id)  # root name first
        _, _, rest = rel.partition(b"/")
        return self.source_path + (b"/" + rest if rest else b"")

    def _store(self, results: list[Hashed | Failed]) -> None:
        conn = self.cat.conn
        hashed = [r for r in results if isinstance(r, Hashed)]
        for r in results:
            if isinstance(r, Failed):
                self.counts.skipped += 1
                conn.execute("DELETE FROM entries WHERE id=?", (r.entry_id,))
                conn.execute("UPDATE dirs SET sig=NULL WHERE id=?", (r.dir_id,))  # rows no longer match
                conn.execute(
                    "INSERT OR REPLACE INTO skipped (snapshot_id, dir_id, name, reason) VALUES (?,?,?,?)",
                    (self.snap, r.dir_id, r.name, r.reason),
                )
                self.reporter.event("skipped", path=os.fsdecode(r.path), reason=r.reason)
        if not hashed:
            return
        before = conn.total_changes
        conn.executemany("INSERT OR IGNORE INTO contents (sha256, size) VALUES (?, ?)",
                         [(r.sha256, r.size) for r in hashed])
        self.counts.new_contents += conn.total_changes - before
        conn.executemany(
            "UPDATE entries SET content_id=(SELECT id FROM contents WHERE sha256=?), size=?, mtime_ns=?, ino=?"
            " WHERE id=?",
            [(r.sha256, r.size, r.mtime_ns, r.ino, r.entry_id) for r in hashed],
        )
        moved = [(r.dir_id,) for r in hashed if r.moved]
        if moved:  # the stored stat is not what the walk listed: the listing digest no longer holds
            conn.executemany("UPDATE dirs SET sig=NULL WHERE id=?", moved)
        nbytes = sum(r.size for r in hashed)
        self.counts.files += len(hashed)
        self.counts.bytes += nbytes
        self.reporter.advance(items=len(hashed), nbytes=nbytes)


def _hash_task(task: list[tuple]) -> list[Hashed | Failed]:
    out: list[Hashed | Failed] = []
    for entry_id, dir_id, name, path, walked in task:
        result = hash_file(path)
        if isinstance(result, str):
            out.append(Failed(entry_id, dir_id, name, path, result))
        else:
            sha, size, mtime_ns, ino = result
            out.append(Hashed(entry_id, sha, size, mtime_ns, ino, dir_id, (size, mtime_ns, ino) != walked))
    return out
