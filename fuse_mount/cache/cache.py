"""The mount's persistent content cache: verified chunks of contents on local disk.

A content is identified by its SHA-256 (lower-case hex, the cache *key*) and size. It is
stored in fixed-size chunks (`CacheConfig.chunk_bytes`, equal to the catalogue's chunk size,
so per-chunk hashes from the catalogue verify them); chunk i covers bytes
[i*chunk_bytes, min((i+1)*chunk_bytes, size)). A content no larger than one chunk is one
chunk. Besides the chunks, the first `keep_heads_bytes` of each content are kept in a *head*
that is evicted last, so file managers reading headers do not make the robot thrash.

Which threads touch it: every FUSE worker thread (get, open_handle, close_handle), the
fetcher's threads (put_*, record_*), and the command line in another process (stats, evict,
pin) through the same SQLite index. All methods are thread-safe.

Typical use by the mount:

    cache = Cache.open(config)
    cache.open_handle(key)                     # on open(): never evicted while open
    data = cache.get(key, offset, length)      # counts a hit or a miss, traces it
    if data is None:
        for i in cache.missing_chunks(key, size, offset, length): ...fetch chunk i...
        cache.put_chunk(key, size, i, chunk_bytes_read, chunk_sha256_hex)   # or put_whole
        data = cache.peek(key, offset, length) # no second hit/miss is counted
    cache.close_handle(key)                    # on release()
    cache.close()

Lock order (take them in this order, never the reverse):
    1. Cache._db             the SQLite connection, Writer.reserved, renames and unlinks under data/
    2. Ledger._lock          counters, pending access times, open handles     (leaf)
       Index._maps_lock      the memo of content maps (cached reads take only this) (leaf)
    3. VerifiedMemo._lock    which blocks of which files are verified         (leaf)
    4. TraceWriter._lock     the trace file                                   (leaf)
Leaves never take another lock. No lock is held while chunk bytes are read, hashed or
written; only renaming a written file into place and unlinking evicted ones happen under _db,
so a file and its index row always change together.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from fuse_mount.cache.config import CacheConfig
from fuse_mount.cache.errors import CacheError
from fuse_mount.cache.eviction import Evictor
from fuse_mount.cache.index import HEAD, Index, StaleIndex, is_full
from fuse_mount.cache.ledger import Ledger
from fuse_mount.cache.policies import get_policy
from fuse_mount.cache.reads import EMPTY_KEY, Reads
from fuse_mount.cache.stats import CacheStats
from fuse_mount.cache.store import Store
from fuse_mount.cache.trace import TraceWriter
from fuse_mount.cache.writer import Writer
from fuse_mount.fd_reads import ChunkFds, Piece

log = logging.getLogger("fuse_mount.cache")

Clock = Callable[[], float]

MAINTAIN_INTERVAL_S = 2.0
"""How often reads also apply max_age_s and flush counters (besides every put)."""

__all__ = ["EMPTY_KEY", "HEAD", "Cache"]


class Cache:
    """A persistent, bounded, verified cache of contents (see the module docstring)."""

    def __init__(
        self, config: CacheConfig, index: Index, store: Store, trace: TraceWriter | None, clock: Clock = time.time
    ) -> None:
        self._config = config
        self._clock = clock
        self._index = index
        self._store = store
        self._trace = trace
        self._db = threading.Lock()
        self._ledger = Ledger()
        self._evictor = Evictor(config, index, store, self._ledger, clock)
        self._reads = Reads(config, index, store, self._ledger, self._db)
        self._writer = Writer(config, index, store, self._ledger, self._evictor, self._db, self._flush, clock)
        self._last_maintain = time.monotonic()
        self._closed = False

    @classmethod
    def open(cls, config: CacheConfig, clock: Clock = time.time) -> Cache:
        """Open (creating if needed) the cache in `config.dir`.

        Recovers from a crash: half-written files are dropped, handles of dead processes are
        forgotten. If `chunk_bytes` differs from the one the cache was filled with, the cached
        data is dropped (pins and counters are kept). Raises CacheError if the directory or
        index cannot be used or the config is invalid. `clock` (seconds since the epoch) is
        what access times and ages are measured with; tests pass a fake one.
        """
        try:
            get_policy(config.policy)
        except ValueError as e:
            raise CacheError(str(e), hint="set [cache] policy to one of the names listed") from None
        store = Store(config.dir)
        try:
            config.dir.mkdir(parents=True, exist_ok=True)
            store.prepare()
            try:
                index = Index.open(config.dir / "index.sqlite")
            except StaleIndex as e:
                log.warning("%s: starting an empty cache", e)
                for suffix in ("", "-wal", "-shm"):
                    (config.dir / f"index.sqlite{suffix}").unlink(missing_ok=True)
                store.remove_all()
                index = Index.open(config.dir / "index.sqlite")
            with index.transaction():
                index.drop_dead_handles()
                stored = index.meta("chunk_bytes")
                if stored is not None and int(stored) != config.chunk_bytes:
                    log.warning(
                        "cache chunk size changed from %s to %d: dropping cached data", stored, config.chunk_bytes
                    )
                    index.remove_chunks(index.all_chunks())
                    store.remove_all()
                index.set_meta("chunk_bytes", str(config.chunk_bytes))
        except (OSError, sqlite3.Error) as e:
            raise CacheError(f"cannot open the cache in {config.dir}: {e}") from None
        trace = TraceWriter(config.dir / "trace.jsonl", config.trace_max_bytes) if config.trace else None
        return cls(config, index, store, trace, clock)

    def close(self) -> None:
        """Flush counters and access times to the index, forget this cache's open handles
        (files still open are closed with it), and close the index; idempotent."""
        with self._db:
            if self._closed:
                return
            self._ledger.close_all()
            self._flush()
            self._closed = True
            self._index.close()
        if self._trace is not None:
            self._trace.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def config(self) -> CacheConfig:
        return self._config

    @property
    def trace_path(self) -> Path:
        """The JSON-lines trace file (`<dir>/trace.jsonl`)."""
        return self._config.dir / "trace.jsonl"

    def chunk_range(self, size: int, index: int) -> tuple[int, int]:
        """(offset, length) of chunk `index` of a `size`-byte content."""
        offset = index * self._config.chunk_bytes
        if index < 0 or offset >= max(size, 1):
            raise ValueError(f"chunk {index} is outside a content of {size} bytes")
        return offset, min(self._config.chunk_bytes, size - offset)

    # ---- reads ----
    def get(self, key: str, offset: int, length: int, size: int | None = None) -> bytes | None:
        """Bytes [offset, offset+length) of content `key` (clamped to its size), or None.

        `size` (the content's size, if the caller knows it) is only used for the trace of a
        miss on a content the cache has never seen; pass it so that replays can model it.

        A hit only if every chunk the range needs is cached and verifies (or the range lies
        within the cached head). Counts a hit or a miss, adds to bytes_served, appends to the
        trace. A cached chunk whose bytes no longer match its recorded hash is dropped,
        counted in corrupt_drops, and the read is a miss: corrupt data is never returned.
        """
        now = self._clock()
        known, data, idxs = self._reads.read(key, offset, length)
        self._count(now, key, offset, length, known if known is not None else size, idxs, data)
        return data

    def extents(self, key: str, offset: int, length: int, fds: ChunkFds) -> list[Piece] | None:
        """Where bytes [offset, offset+length) of content `key` lie in its verified cache
        files, opened in `fds` (`Reads.extents`), counted as a hit; None (nothing counted)
        when `get` must serve the read instead."""
        now = self._clock()
        found = self._reads.extents(key, offset, length, fds)
        if found is None:
            return None
        size, pieces, idxs = found
        self._count(now, key, offset, length, size, idxs, sum(p.size for p in pieces))
        return pieces

    def _count(
        self, now: float, key: str, offset: int, length: int, size: int | None, idxs: list[int], got: bytes | int | None
    ) -> None:
        """A hit (`got`: the bytes or how many) or a miss (None): counters, trace, upkeep."""
        if got is None:
            self._ledger.add("misses")
        else:
            self._ledger.hit(key, idxs, got if isinstance(got, int) else len(got), now)
        if self._trace is not None:
            start = offset if size is None else min(offset, size)
            n = length if size is None else min(length, size - start)
            self._trace.record(now, key, -1 if size is None else size, start, n, got is not None)
        self._maintain_if_due()

    def peek(self, key: str, offset: int, length: int) -> bytes | None:
        """Like `get` but counts nothing and traces nothing (the re-read after a fetch)."""
        return self._reads.read(key, offset, length)[1]

    def missing_chunks(self, key: str, size: int, offset: int, length: int) -> list[int]:
        """Indexes of the chunks of a `size`-byte content that [offset, offset+length) needs
        and that are not cached, in order. Empty when `get` would hit (barring corruption)."""
        return self._reads.missing(key, size, offset, length)

    def is_cached(self, key: str) -> bool:
        """Whether every byte of the content is cached (for xattr `user.odarchive.cached`).

        Asked by a person or a script, often right after `odarchive cache evict` in another
        process: memoised maps are dropped first if chunks went since (the periodic flush that
        also does this may not be due for a while)."""
        with self._db:
            self._index.notice_other_processes()
        found = self._reads.content_map(key)
        return key == EMPTY_KEY or (found is not None and not self.missing_chunks(key, found.size, 0, found.size))

    # ---- writes (from the fetcher) ----
    def put_whole(self, key: str, data: bytes | memoryview, sha256_expected: str | None = None) -> bool:
        """Store a whole content after checking sha256(data) == sha256_expected (default: key).

        Returns False (and stores nothing) on a hash mismatch; the caller must not serve the
        data. Makes room first (evicting by the policy); raises CacheFullError if the bytes
        cannot be written even after evicting everything evictable. Storing what is already
        cached is a no-op returning True.
        """
        if hashlib.sha256(data).hexdigest() != (sha256_expected or key).lower():
            return False
        cb, view = self._config.chunk_bytes, memoryview(data)
        self._put(key, len(data), [(i, view[i * cb : (i + 1) * cb]) for i in range(max(1, -(-len(data) // cb)))])
        return True

    def put_chunk(self, key: str, size: int, index: int, data: bytes | memoryview, chunk_sha256_expected: str) -> bool:
        """Store chunk `index` of the `size`-byte content `key` if it matches its hash (hashed
        as it is written; nothing is stored unless it matches).

        len(data) must be the chunk's length (see `chunk_range`), else ValueError. Returns
        False on a hash mismatch. Same room-making and CacheFullError as `put_whole`.
        """
        _, expected_len = self.chunk_range(size, index)
        if len(data) != expected_len:
            raise ValueError(f"chunk {index} of {key} must be {expected_len} bytes, got {len(data)}")
        digest = bytes.fromhex(chunk_sha256_expected)
        return self._put(key, size, [(index, memoryview(data))], {index: digest}, check=(index, digest))

    def _put(
        self,
        key: str,
        size: int,
        pieces: list[tuple[int, memoryview]],
        digests: dict[int, bytes] | None = None,
        check: tuple[int, bytes] | None = None,
    ) -> bool:
        """Store the pieces not cached yet. `check` (index, SHA-256): that piece must match,
        else nothing is stored and the answer is False; it is hashed as it is written (one pass
        over its bytes for both), or here first when it is not to be written."""
        if key == EMPTY_KEY:
            return True
        head = self._config.head_bytes
        items: list[tuple[int, memoryview]] = []
        for idx, data in pieces:
            if idx == 0 and head > 0:
                items.append((HEAD, data[:head]))
                if size <= head:
                    continue
            items.append((idx, data))
        with self._db:
            found = self._index.content_map(key)  # fresh, not the memo
        present = found.rows if found is not None else {}
        items = [(idx, data) for idx, data in items if idx not in present]
        if check is not None and check[0] not in {idx for idx, _ in items}:
            if hashlib.sha256(dict(pieces)[check[0]]).digest() != check[1]:
                return False
            check = None
        if items:
            if not self._writer.store(key, size, items, digests, check):
                return False
            if self._trace is not None:
                self._trace.append_fill(self._clock(), key, size)
        self._maintain_if_due()
        return True

    # ---- keeping things ----
    def open_handle(self, key: str) -> None:
        """Record an open file on `key`: its chunks are never evicted until closed.

        Kept in memory and recorded in the index with this process's id within a second (see
        ledger.py), so `odarchive cache evict` in another process respects it too; handles
        of dead processes are ignored and cleaned up.
        """
        self._ledger.handle(key, +1)

    def close_handle(self, key: str) -> None:
        """Undo one `open_handle(key)`; applies max_bytes if the cache had to exceed it."""
        self._ledger.handle(key, -1)
        if self._writer.over_quota:
            with self._db:
                self._flush()
                self._evictor.purge_over_quota()
                self._writer.over_quota = self._config.max_bytes < self._index.totals().bytes

    def pin(self, key: str, size: int) -> None:
        """Keep `key` whatever the bounds (persisted). A content not yet cached stays pinned
        when it arrives."""
        with self._db, self._index.transaction():
            self._index.set_pinned(key, size, True)

    def unpin(self, key: str) -> None:
        with self._db, self._index.transaction():
            self._index.set_pinned(key, None, False)

    def is_pinned(self, key: str) -> bool:
        with self._db:
            return self._index.is_pinned(key)

    def evict(self, key: str) -> int:
        """Drop a content's chunks and head now. Returns the bytes freed.

        Raises CacheError if the content is open (in any live process) or pinned.
        """
        with self._db:
            self._flush()
            if self._index.is_open(key):
                raise CacheError(
                    f"{key} is open; close it first", hint="it is evicted once closed if the cache is full"
                )
            if self._index.is_pinned(key):
                raise CacheError(f"{key} is pinned", hint="unpin it first (odarchive cache pin --remove PATH)")
            return self._evictor.remove(self._index.all_chunks(key))

    def evict_all(self) -> int:
        """Drop every content that is neither open nor pinned, and any stray file the index
        does not know (left by a crash). Returns the bytes freed."""
        with self._db:
            self._flush()
            freed = self._evictor.remove(self._index.evictable())
            known = {(r.key, r.idx) for r in self._index.all_chunks()}
            return freed + self._store.remove_strays(known)

    def enforce(self) -> int:
        """Apply max_age_s, max_bytes and min_free_bytes now; returns the bytes freed.

        Also runs by itself after puts and, at most every MAINTAIN_INTERVAL_S, during reads.
        """
        with self._db:
            return self._enforce()

    def _enforce(self) -> int:
        self._last_maintain = time.monotonic()
        self._flush()
        freed = self._evictor.purge_idle() + self._evictor.purge_over_quota(self._writer.reserved)
        before = self._index.totals().bytes
        self._evictor.purge_for_free_space(self._writer.reserved)
        return freed + before - self._index.totals().bytes

    def _maintain_if_due(self) -> None:
        """Flush the ledger or enforce the bounds when due, unless another thread is busy with
        the index (then it is left for later: a read never waits for it)."""
        enforce = time.monotonic() - self._last_maintain >= MAINTAIN_INTERVAL_S
        if not (enforce or self._ledger.due()) or not self._db.acquire(blocking=False):
            return
        try:
            if enforce:
                self._enforce()
            else:
                self._flush()
        finally:
            self._db.release()

    def _flush(self) -> None:
        """Drain the ledger into the index (caller holds _db)."""
        if self._closed:
            return
        self._index.notice_other_processes()
        drained = self._ledger.drain()
        if drained:
            try:
                with self._index.transaction():
                    self._index.add_counters(drained.counters, drained.wait_max_s)
                    self._index.touch(drained.touches)
                    for key, delta in drained.handles.items():
                        self._index.add_handle(key, os.getpid(), delta)
            except sqlite3.OperationalError as e:
                if not is_full(e):
                    raise
                log.warning("cache disk full: counters kept in memory until there is room")
                self._ledger.restore(drained)
        if self._trace is not None:
            self._trace.flush()

    def check(self, progress: Callable[[int], None] | None = None) -> tuple[int, int, int]:
        """Verify every cached chunk and head against its block hashes again (a scrub),
        dropping corrupt ones (counted in corrupt_drops) and rows whose file is missing.
        Returns (checked, corrupt, missing); calls progress(nbytes) after each file."""
        return self._reads.check(progress)

    # ---- accounting ----
    def record_wait(self, seconds: float) -> None:
        """A miss waited `seconds` for its data (mean/max wait per miss in stats)."""
        self._ledger.wait(seconds)

    def record_disc_load(self, disc: int) -> None:
        """The fetcher loaded disc `disc` into a drive to fill misses."""
        self._ledger.add("disc_loads")
        log.debug("cache: disc %d loaded", disc)

    def stats(self) -> CacheStats:
        """The counters (persisted across restarts) and the current fill."""
        with self._db:
            self._flush()
            c = self._index.counters()
            totals = self._index.totals()
            contents, pinned, handles = self._index.summary()
            free = self._evictor.free_bytes()
        lookups = c["hits"] + c["misses"]
        return CacheStats(
            hits=int(c["hits"]),
            misses=int(c["misses"]),
            hit_ratio=round(c["hits"] / lookups, 4) if lookups else 0.0,
            bytes_served=int(c["bytes_served"]),
            bytes_cached=totals.bytes,
            evictions=int(c["evictions"]),
            disc_loads=int(c["disc_loads"]),
            mean_wait_s=round(c["wait_total_s"] / c["waits"], 3) if c["waits"] else 0.0,
            max_wait_s=round(c["wait_max_s"], 3),
            bytes_evicted=int(c["bytes_evicted"]),
            corrupt_drops=int(c["corrupt_drops"]),
            full_errors=int(c["full_errors"]),
            contents=contents,
            chunks=totals.chunks,
            heads=totals.heads,
            pinned=pinned,
            open_handles=handles,
            max_bytes=self._config.max_bytes,
            free_bytes=free,
            policy=self._config.policy,
        )
