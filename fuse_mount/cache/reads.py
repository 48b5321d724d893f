"""The read side of the cache: content maps, verified reads of chunks and heads, scrubbing.

`Reads.read` plans which chunk files (or the head) a byte range needs, reads them through
`Store.read` (verified blocks) and drops a chunk whose file is gone or corrupt, so the caller
sees a miss, never wrong bytes. Content maps come from the index's memo without taking
`Cache._db` when they are there (see the lock order in cache.py).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable

from fuse_mount.cache.config import CacheConfig
from fuse_mount.cache.index import HEAD, ChunkRow, ContentMap, Index
from fuse_mount.cache.ledger import Ledger
from fuse_mount.cache.store import BLOCK_BYTES, Corrupt, Gone, Store, signature
from fuse_mount.fd_reads import ChunkFd, ChunkFds, Piece, hold, release

log = logging.getLogger("fuse_mount.cache")

EMPTY_KEY = hashlib.sha256(b"").hexdigest()


class Reads:
    def __init__(self, config: CacheConfig, index: Index, store: Store, ledger: Ledger, db: threading.Lock) -> None:
        self._config, self._index, self._store, self._ledger, self._db = config, index, store, ledger, db

    def content_map(self, key: str) -> ContentMap | None:
        """The content's map, from the memo without waiting for _db when it is there."""
        known, found = self._index.memoised(key)
        if not known:
            with self._db:
                found = self._index.content_map(key)
        return found

    def read(self, key: str, offset: int, length: int) -> tuple[int | None, bytes | None, list[int]]:
        """(content size or None if unknown, the bytes or None on a miss, chunk indexes read)."""
        if key == EMPTY_KEY:
            return 0, b"", []
        found = self.content_map(key)
        if found is None:
            return None, None, []
        plan = self._plan(found, offset, length)
        if plan is None:
            return found.size, None, []
        pieces = []
        for row, start, count in plan:
            got = self._read_row(row, start, count)
            if not isinstance(got, bytes):
                return found.size, None, []
            pieces.append(got)
        return found.size, b"".join(pieces), [row.idx for row, _, _ in plan]

    def extents(self, key: str, offset: int, length: int, fds: ChunkFds) -> tuple[int, list[Piece], list[int]] | None:
        """(content size, where the bytes lie in verified cache files open in `fds`, chunk
        indexes) for a read libfuse serves from the files (`fuse_mount.fd_reads`); None
        whenever `read` must serve it instead: a miss, a file gone or replaced since it was
        opened, or a block not verified in this version of its file (`read` verifies it).

        The pieces' descriptors are acquired (see `fd_reads.ChunkFds.acquire`): the caller
        holds them for the reply."""
        found = self.content_map(key) if key != EMPTY_KEY else None
        plan = self._plan(found, offset, length) if found is not None else None
        if found is None or plan is None:
            return None
        pieces: list[Piece] = []
        used: list[ChunkFd] = []
        for row, start, count in plan:
            f = fds.acquire(row.rowid, self._store.path(row.key, row.idx))
            if f is None:
                break
            used.append(f)
            st = os.fstat(f.fd)
            if st.st_nlink == 0 or st.st_size != row.length:  # evicted or rewritten since opened
                fds.drop(row.rowid, f)
                break
            sig = signature(st)
            memo = self._store.memo
            if not all(
                memo.verified(row.rowid, b, sig)
                for b in range(start // BLOCK_BYTES, (start + count - 1) // BLOCK_BYTES + 1)
            ):
                fds.drop(row.rowid, f)  # `read` verifies (or drops) the file at its path; reopened next time
                break
            f.read_ahead(start, count, row.length)
            pieces.append(Piece(f.fd, start, count))
        else:
            hold(used)
            return found.size, pieces, [row.idx for row, _, _ in plan]
        release(used)
        return None

    def _plan(self, found: ContentMap, offset: int, length: int) -> list[tuple[ChunkRow, int, int]] | None:
        """(row, start in its file, count) of each cached file [offset, offset+length) needs
        (clamped to the content's size), or None if one is not cached."""
        cb = self._config.chunk_bytes
        size, by_idx = found.size, found.rows
        n = max(0, min(length, size - offset))
        if n == 0:
            return []
        first, last = offset // cb, (offset + n - 1) // cb
        head = by_idx.get(HEAD)
        if head is not None and offset + n <= head.length:
            return [(head, offset, n)]
        if first == last:  # most reads: one chunk
            row = by_idx.get(first)
            return None if row is None else [(row, offset - first * cb, n)]
        if any(i not in by_idx for i in range(first, last + 1)):
            return None
        plan = []
        for i in range(first, last + 1):
            lo, hi = max(offset, i * cb), min(offset + n, (i + 1) * cb)
            plan.append((by_idx[i], lo - i * cb, hi - lo))
        return plan

    def _read_row(self, row: ChunkRow, start: int, count: int, force: bool = False) -> bytes | str:
        """The verified bytes, or "missing" / "corrupt" once the row has been dropped."""
        try:
            return self._store.read(row.key, row.idx, row.rowid, row.length, row.hashes, start, count, force)
        except Gone:
            self.drop(row, corrupt=False)
            return "missing"
        except Corrupt as e:
            log.warning("cache: dropping corrupt cached data %s", e)
            self.drop(row, corrupt=True)
            return "corrupt"

    def drop(self, row: ChunkRow, corrupt: bool) -> None:
        with self._db:
            with self._index.transaction():
                removed = self._index.remove_chunks([row])
            if removed and corrupt:
                self._store.remove(row.key, row.idx)
        if corrupt:
            self._ledger.add("corrupt_drops")

    def missing(self, key: str, size: int, offset: int, length: int) -> list[int]:
        """Indexes of the chunks of a `size`-byte content that [offset, offset+length) needs
        and that are not cached, in order. Empty when `get` would hit (barring corruption)."""
        n = max(0, min(length, size - offset))
        if n == 0 or key == EMPTY_KEY:
            return []
        cb = self._config.chunk_bytes
        first, last = offset // cb, (offset + n - 1) // cb
        found = self.content_map(key)
        present = found.rows if found is not None else {}
        head = present.get(HEAD)
        if head is not None and offset + n <= head.length:
            return []
        return [i for i in range(first, last + 1) if i not in present]

    def check(self, progress: Callable[[int], None] | None = None) -> tuple[int, int, int]:
        """Verify every cached chunk and head against its block hashes (a scrub), dropping
        corrupt ones (counted in corrupt_drops) and rows whose file is missing.

        Returns (chunks checked, corrupt dropped, missing dropped); calls progress(nbytes)
        after each chunk. Reads go on meanwhile; the index lock is held only between files.
        """
        found = {"corrupt": 0, "missing": 0}
        checked = last = 0
        while True:
            with self._db:
                rows = self._index.chunks_after(last, 256)
            if not rows:
                return checked, found["corrupt"], found["missing"]
            for row in rows:
                last = row.rowid
                got = self._read_row(row, 0, row.length, force=True)
                if not isinstance(got, bytes):
                    found[got] += 1
                checked += 1
                if progress is not None:
                    progress(row.length)
