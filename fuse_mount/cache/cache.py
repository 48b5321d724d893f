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

Lock order (take them in this order, never the reverse; no lock is held while chunk data is
read, hashed or written, except the final rename of a written file):
    1. Cache._db      the SQLite connection and everything on disk under data/ and heads/
    2. Cache._mem     in-memory counters, pending access times, the verified-block memo
    3. Trace._lock    the trace file
"""

from __future__ import annotations

from pathlib import Path

from fuse_mount.cache.config import CacheConfig
from fuse_mount.cache.stats import CacheStats

HEAD = -1
"""Chunk index under which a content's head is recorded in the index."""


class Cache:
    """A persistent, bounded, verified cache of contents (see the module docstring)."""

    @classmethod
    def open(cls, config: CacheConfig) -> "Cache":
        """Open (creating if needed) the cache in `config.dir`.

        Recovers from a crash: half-written data is dropped. If `chunk_bytes` differs from the
        one the cache was filled with, the cached data is dropped (stats are kept).
        Raises CacheError if the directory or index cannot be used.
        """
        raise NotImplementedError

    def close(self) -> None:
        """Flush counters and access times to the index and close it; idempotent."""
        raise NotImplementedError

    def __enter__(self) -> "Cache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def config(self) -> CacheConfig:
        raise NotImplementedError

    # ---- reads ----
    def get(self, key: str, offset: int, length: int) -> bytes | None:
        """Bytes [offset, offset+length) of content `key` (clamped to its size), or None.

        A hit only if every chunk the range needs is cached and verifies (or the range lies
        within the cached head). Counts a hit or a miss, adds to bytes_served, appends to the
        trace. A cached chunk whose bytes no longer match its recorded hash is dropped,
        counted in corrupt_drops, and the read is a miss: corrupt data is never returned.
        """
        raise NotImplementedError

    def peek(self, key: str, offset: int, length: int) -> bytes | None:
        """Like `get` but counts nothing and traces nothing (the re-read after a fetch)."""
        raise NotImplementedError

    def missing_chunks(self, key: str, size: int, offset: int, length: int) -> list[int]:
        """Indexes of the chunks of a `size`-byte content that [offset, offset+length) needs
        and that are not cached, in order. Empty when `get` would hit."""
        raise NotImplementedError

    def is_cached(self, key: str) -> bool:
        """Whether every chunk of the content is cached (for xattr `user.odarchive.cached`)."""
        raise NotImplementedError

    def chunk_range(self, size: int, index: int) -> tuple[int, int]:
        """(offset, length) of chunk `index` of a `size`-byte content."""
        raise NotImplementedError

    # ---- writes (from the fetcher) ----
    def put_whole(self, key: str, data: bytes, sha256_expected: str | None = None) -> bool:
        """Store a whole content after checking sha256(data) == sha256_expected (default: key).

        Returns False (and stores nothing) on a hash mismatch; the caller must not serve the
        data. Makes room first (evicting by the policy); raises CacheFullError if the bytes
        cannot be written even after evicting everything evictable. Storing what is already
        cached is a no-op returning True.
        """
        raise NotImplementedError

    def put_chunk(self, key: str, size: int, index: int, data: bytes, chunk_sha256_expected: str) -> bool:
        """Store chunk `index` of the `size`-byte content `key` after checking its hash.

        len(data) must be the chunk's length (see `chunk_range`), else ValueError. Returns
        False on a hash mismatch. Same room-making and CacheFullError as `put_whole`.
        """
        raise NotImplementedError

    # ---- keeping things ----
    def open_handle(self, key: str) -> None:
        """Record an open file on `key`: its chunks are never evicted until closed.

        Recorded in the index with this process's id, so `odarchive cache evict` in another
        process respects it too; handles of dead processes are ignored and cleaned up.
        """
        raise NotImplementedError

    def close_handle(self, key: str) -> None:
        """Undo one `open_handle(key)`."""
        raise NotImplementedError

    def pin(self, key: str, size: int) -> None:
        """Keep `key` whatever the bounds (persisted). A content not yet cached stays pinned
        when it arrives."""
        raise NotImplementedError

    def unpin(self, key: str) -> None:
        raise NotImplementedError

    def evict(self, key: str) -> int:
        """Drop a content's chunks and head now (unless open or pinned: then CacheError).
        Returns the bytes freed."""
        raise NotImplementedError

    def evict_all(self) -> int:
        """Drop every content that is neither open nor pinned. Returns the bytes freed."""
        raise NotImplementedError

    def enforce(self) -> int:
        """Apply max_age_s, max_bytes and min_free_bytes now; returns the bytes freed.

        Also runs by itself after puts and, at most every few seconds, during reads.
        """
        raise NotImplementedError

    # ---- accounting ----
    def record_wait(self, seconds: float) -> None:
        """A miss waited `seconds` for its data (mean/max wait per miss in stats)."""
        raise NotImplementedError

    def record_disc_load(self, disc: int) -> None:
        """The fetcher loaded disc `disc` into a drive to fill misses."""
        raise NotImplementedError

    def stats(self) -> CacheStats:
        """The counters (persisted across restarts) and the current fill."""
        raise NotImplementedError

    @property
    def trace_path(self) -> Path:
        """The JSON-lines trace file (`<dir>/trace.jsonl`)."""
        raise NotImplementedError
