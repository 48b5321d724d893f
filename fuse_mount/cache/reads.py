"""The read side of the cache: content maps, verified reads of chunks and heads, scrubbing.

`Reads.read` plans which chunk files (or the head) a byte range needs, reads them through
`Store.read` (verified blocks) and drops a chunk whose file is gone or corrupt, so the caller
sees a miss, never wrong bytes. Content maps come from the index's memo without taking
`Cache._db` when they are there (see the lock order in cache.py).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable

from fuse_mount.cache.config import CacheConfig
from fuse_mount.cache.index import HEAD, ChunkRow, ContentMap, Index
from fuse_mount.cache.ledger import Ledger
from fuse_mount.cache.store import Corrupt, Gone, Store

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
        cb = self._config.chunk_bytes
        found = self.content_map(key)
        if found is None:
            return None, None, []
        size, by_idx = found.size, found.rows
        n = max(0, min(length, size - offset))
        if n == 0:
            return size, b"", []
        first, last = offset // cb, (offset + n - 1) // cb
        head = by_idx.get(HEAD)
        if head is not None and offset + n <= head.length:
            plan = [(head, offset, n)]
        else:
            if any(i not in by_idx for i in range(first, last + 1)):
                return size, None, []
            plan = []
            for i in range(first, last + 1):
                lo, hi = max(offset, i * cb), min(offset + n, (i + 1) * cb)
                plan.append((by_idx[i], lo - i * cb, hi - lo))
        pieces = []
        for row, start, count in plan:
            got = self._read_row(row, start, count)
            if not isinstance(got, bytes):
                return size, None, []
            pieces.append(got)
        return size, b"".join(pieces), [row.idx for row, _, _ in plan]

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
