"""Storing verified data: making room, writing outside the lock, recording and installing.

`Cache.put_*` has worked out which pieces (chunks, head) to store; `Writer.store` reserves
their bytes and evicts for them (max_bytes, min_free_bytes) under `Cache._db`, writes each
piece to tmp/ with no lock held (a chunk is hashed as it is written, and nothing is installed
unless it matches its hash), and then, under `Cache._db` again, records each index row and
renames its file into place. A full disk (ENOSPC/EDQUOT) on a write
evicts by the policy and retries once, then raises CacheFullError for that put only; the
index never records a file that is not complete. See the lock order in cache.py.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from fuse_mount.cache.config import CacheConfig
from fuse_mount.cache.errors import CacheError, CacheFullError
from fuse_mount.cache.eviction import INDEX_HEADROOM_BYTES, Evictor
from fuse_mount.cache.index import ChunkRow, Index, is_full
from fuse_mount.cache.ledger import Ledger
from fuse_mount.cache.store import Store, block_hashes

log = logging.getLogger("fuse_mount.cache")

_FULL = (errno.ENOSPC, errno.EDQUOT)


class Writer:
    def __init__(
        self,
        config: CacheConfig,
        index: Index,
        store: Store,
        ledger: Ledger,
        evictor: Evictor,
        db: threading.Lock,
        flush: Callable[[], None],
        clock: Callable[[], float],
    ) -> None:
        self._config, self._index, self._store = config, index, store
        self._ledger, self._evictor, self._db = ledger, evictor, db
        self._flush, self._clock = flush, clock
        self.reserved = 0
        """Bytes being written by this process, not yet in the index (under _db)."""
        self.over_quota = False
        """Open or pinned data made a put exceed max_bytes: re-check when a file is closed."""

    def store(
        self,
        key: str,
        size: int,
        items: list[tuple[int, memoryview]],
        digests: dict[int, bytes] | None = None,
        check: tuple[int, bytes] | None = None,
    ) -> bool:
        """Store pieces (index, bytes) of the `size`-byte content `key` (index -1: the head).

        `digests`: the SHA-256 of a whole piece already verified (a chunk, by the catalogue's
        chunk hash), recorded as its one digest; the other pieces get block hashes. `check`
        (index, SHA-256): that piece is hashed as it is written, in pieces of `WRITE_PIECE`
        bytes each still in the CPU's cache when written (one pass over memory instead of
        two), before any other; nothing is installed unless it matches (then False), and
        CacheFullError is raised only for bytes that match."""
        checked, want = check if check is not None else (None, b"")
        items = sorted(items, key=lambda item: item[0] != checked)  # the checked piece first
        left = sum(len(data) for _, data in items)
        matched = check is None
        written: list[Path] = []
        try:
            self._make_room(left)
            for idx, data in items:
                tmp, digest = self._write(data, hashed=idx == checked)
                written.append(tmp)
                if digest is not None:
                    if digest != want:
                        return False
                    matched = True
            for tmp, (idx, data) in zip(written, items, strict=True):
                hashes = (digests or {}).get(idx) or block_hashes(data)
                with self._db:
                    self._install(tmp, key, size, idx, len(data), hashes)
                    self.reserved -= len(data)
                    left -= len(data)
            return True
        except CacheFullError:
            if checked is not None and not matched and hashlib.sha256(dict(items)[checked]).digest() != want:
                return False
            raise
        finally:
            for tmp in written:
                tmp.unlink(missing_ok=True)  # those installed were renamed away
            with self._db:
                self.reserved -= left

    def _install(self, tmp: Path, key: str, size: int, idx: int, nbytes: int, hashes: bytes) -> None:
        """Record a written file and move it into place (caller holds _db)."""
        try:
            with self._index.transaction():
                rowid = self._index.add_chunk(key, size, idx, nbytes, hashes, self._clock())
        except sqlite3.OperationalError as e:
            tmp.unlink(missing_ok=True)
            if not is_full(e):
                raise
            self._ledger.add("full_errors")
            raise CacheFullError(f"the cache disk is full: cannot record cached data in {self._config.dir}") from None
        if rowid is None:  # another thread stored the same chunk meanwhile
            tmp.unlink(missing_ok=True)
            return
        try:
            self._store.install(tmp, key, idx, rowid, nbytes)
        except OSError as e:
            with self._index.transaction():
                self._index.remove_chunks([ChunkRow(rowid, key, idx, nbytes, hashes)])
            tmp.unlink(missing_ok=True)
            raise CacheError(f"cannot store cached data in {self._config.dir}: {e}") from None

    def _write(self, data: memoryview, hashed: bool = False) -> tuple[Path, bytes | None]:
        """Write to tmp/ (and the SHA-256 of the bytes if `hashed`); on a full disk, evict and
        retry once, then CacheFullError."""
        for attempt in (1, 2):
            try:
                return self._store.write_tmp(data, hashed)
            except OSError as e:
                if e.errno not in _FULL:
                    raise CacheError(f"cannot write to the cache in {self._config.dir}: {e}") from None
                if attempt == 2:
                    self._ledger.add("full_errors")
                    raise CacheFullError(
                        f"the cache disk is full: cannot store {len(data)} bytes in {self._config.dir}"
                        " even after evicting everything that may go (open and pinned files stay)"
                    ) from None
                with self._db:
                    self._flush()
                    freed = self._evictor.evict_bytes(len(data) + INDEX_HEADROOM_BYTES)
                log.warning("cache disk full: evicted %d bytes and retrying", freed)
        raise AssertionError("unreachable")

    def _make_room(self, nbytes: int) -> None:
        """Evict for `nbytes` about to be written and reserve them; CacheFullError if the
        minimum free space cannot be kept. max_bytes is exceeded only by open or pinned data."""
        with self._db:
            self._flush()
            self._evictor.purge_over_quota(self.reserved + nbytes)
            total = self._index.totals().bytes + self.reserved + nbytes
            self.over_quota = bool(self._config.max_bytes) and total > self._config.max_bytes
            if not self._evictor.purge_for_free_space(self.reserved + nbytes):
                self._ledger.add("full_errors")
                raise CacheFullError(
                    f"cannot store {nbytes} bytes in {self._config.dir} without going below"
                    f" min_free_bytes={self._config.min_free_bytes} (open and pinned files stay)"
                )
            self.reserved += nbytes
