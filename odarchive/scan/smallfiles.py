"""Small files hashed during the walk, in the walking process, before their rows are written.

Most files of a real tree are small (office shares: a few kB). For them the row costs more
than the hash: the two-phase path (insert the row, read it back, hash, update it) did three
writes per file. Here the walk collects each new or changed small file (up to `SMALL_FILE`
bytes, not sparse) in batches of `BATCH` files, hashes a full batch (one read and one hash
call a file) and writes its rows once, with their contents. After the first
`hashworkers.INLINE_BATCHES` batches, the batches are hashed in worker processes
(`odarchive.scan.hashworkers`) while the walk goes on; only paths and stat go to them and only
hashes come back, a batch at a time.

Exactness: a file is read in one call and its fstat after the read compared with the walk's
stat (size, mtime, ctime); any difference sends the file to `hasher.hash_file`, which reads
it again until it holds still, and marks the directory's listing digest stale.
Resumability: a directory's listing digest is written only when every file of it that was
collected has its row (or its skipped record), so a scan killed in between compares that
directory row by row next time and finds the missing files. Memory: one batch, and the batches
in flight in the workers.
"""

from __future__ import annotations

import hashlib
import os

from odarchive.catalogue.scanning import Meta, ScanRows
from odarchive.catalogue.xattrs import XattrIds
from odarchive.progress import Reporter
from odarchive.scan.hasher import HashCounts, hash_file, open_for_hash, read_xattrs
from odarchive.scan.hashworkers import HashWorkers

SMALL_FILE = 256 << 10
BATCH = 256

Result = tuple  # (sha256, size, mtime_ns, ctime_off, xattrs text, moved, warning) or the reason it failed
Task = list[tuple[int, bytes, bytes, Meta]]  # (directory node, name, path, meta) of each file of a batch


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


def hash_batch(files: list[tuple[bytes, int, int, int]]) -> list[Result | str]:
    """`hash_small` of each (path, size, mtime_ns, ctime_ns): a batch, as a worker runs it."""
    return [hash_small(*file) for file in files]


class SmallFiles:
    """Hashes the walk's small files in batches (in `processes` worker processes, 0: in this
    one: `odarchive.scan.hashworkers`) and writes their rows."""

    def __init__(self, rows: ScanRows, xattr_ids: XattrIds, reporter: Reporter, processes: int = 0) -> None:
        self.rows = rows
        self.xattr_ids = xattr_ids
        self.reporter = reporter
        self.counts = HashCounts()
        self._task: Task = []
        self._outstanding: dict[int, int] = {}
        self._digests: dict[int, bytes | None] = {}
        self._stale: set[int] = set()
        self._workers: HashWorkers[Task, list[tuple[bytes, int, int, int]], list[Result | str]] = HashWorkers(
            hash_batch, self._store, processes, self._warn, preload=(__name__,)
        )

    def add(self, node: int, files: list[tuple[bytes, bytes, Meta]]) -> None:
        """Files (name, path, meta) of directory `node` to hash and write."""
        self._outstanding[node] = self._outstanding.get(node, 0) + len(files)
        task = self._task
        for name, path, meta in files:
            task.append((node, name, path, meta))
            if len(task) >= BATCH:
                self._run()
                task = self._task

    def listed(self, node: int, digest: bytes | None) -> None:
        """Directory `node` was compared; its digest is written once its collected files are in."""
        if self._outstanding.get(node):
            self._digests[node] = digest
        else:
            self.rows.set_sig(node, None if node in self._stale else digest)
            self._stale.discard(node)

    def flush(self) -> None:
        """Hash and write every file collected so far."""
        if self._task:
            self._run()
        self._workers.flush()

    def close(self) -> None:
        """Stop the workers (files not written yet are left for the next scan)."""
        self._workers.close()

    def _run(self) -> None:
        task, self._task = self._task, []
        self._workers.submit(task, [(path, meta[0], meta[1], meta[1] + meta[3]) for _node, _name, path, meta in task])

    def _warn(self, reason: str) -> None:
        self.reporter.event("warning", reason=reason)

    def _store(self, task: Task, results: list[Result | str]) -> None:
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
