"""File bytes for the VFS: the cache first, the fetcher on a miss (`vfs.ContentReader`).

A hit is served by `Cache.get` (and at each chunk it reaches, the fetcher queues the chunks
beyond, so a sequential first read keeps the drive busy ahead of it); a miss asks the fetcher to fill the cache (blocking this one
reader until the disc is read, or until the disc timeout), then re-reads with `Cache.peek`,
so the bytes served are always the verified ones the cache holds. Open files hold a cache
handle, so their chunks are not evicted while they are read.

What the cache cannot keep (its disk is too small for a file, or full of open and pinned
data) the fetcher hands back verified; it is served from a bounded buffer in memory
(`memo.VerifiedBuffers`), chunk by chunk, so a read succeeds whatever the cache's size (a
file larger than the cache is read from the disc again when it is read again).

Threads: called from many FUSE threads; its state is those buffers (with their lock) and the
last miss (one tuple, replaced whole: a race costs at most one read-ahead, early or late).
"""

from __future__ import annotations

import time

from fuse_mount.cache import Cache
from fuse_mount.catalogue_view import Content
from fuse_mount.errors import DiscUnavailable
from fuse_mount.fd_reads import ChunkFds, Piece
from fuse_mount.fetcher import Fetcher
from fuse_mount.memo import VerifiedBuffers

UNKEPT_BUFFER_BYTES = 96 * 1024 * 1024
"""Verified bytes the cache had no room for, kept for the reads that follow: room for one
whole content of up to `whole_max_bytes` (64 MiB) and two 16 MiB chunks."""


class CachedReader:
    def __init__(
        self, cache: Cache, fetcher: Fetcher, retries: int = 2, unkept_bytes: int = UNKEPT_BUFFER_BYTES
    ) -> None:
        self._cache = cache
        self._fetcher = fetcher
        self._retries = retries
        self._unkept = VerifiedBuffers(unkept_bytes)
        self._missed: tuple[int, int] | None = None  # (content id, chunk) of the last miss

    def read(self, content: Content, offset: int, size: int) -> bytes:
        key = content.sha256.hex()
        data = self._cache.get(key, offset, size)
        if data is None:
            data = self._unkept.read(content.id, offset, size)
        if data is not None:
            self._read_ahead(content, offset, len(data))
            return data
        self._missed = (content.id, offset // self._cache.chunk_range(content.size, 0)[1])
        start = time.monotonic()
        try:
            for _ in range(self._retries):  # a concurrent eviction or corrupt drop: fetch again
                for at, unkept in self._fetcher.fetch(content, offset, size):
                    self._unkept.put(content.id, at, unkept)
                data = self._cache.peek(key, offset, size) or self._piecewise(key, content, offset, size)
                if data is not None:
                    return data
        finally:
            self._cache.record_wait(time.monotonic() - start)
        raise DiscUnavailable(f"content {key[:16]} bytes {offset}+{size} did not stay in the cache")

    def extents(self, content: Content, offset: int, size: int, fds: ChunkFds) -> list[Piece] | None:
        """Where a cached range lies in the cache's verified files (`Cache.extents`), for
        libfuse to send from them; None when `read` must serve it (a miss goes to the fetcher
        there)."""
        pieces = self._cache.extents(content.sha256.hex(), offset, size, fds)
        if pieces:
            self._read_ahead(content, offset, sum(p.size for p in pieces))
        return pieces

    def _read_ahead(self, content: Content, offset: int, n: int) -> None:
        """At each new chunk a read reaches, have the fetcher queue the chunks beyond it; and at
        the first read after a miss that goes on in the chunk of the miss (the read streams: at
        the start of a file the drive would otherwise wait for the reader to reach the next
        chunk before reading further; a read of the file's header alone stops at its miss)."""
        chunk = self._cache.chunk_range(content.size, 0)[1]
        index = offset // chunk
        streams = self._missed == (content.id, index) and offset % chunk != 0
        if streams:
            self._missed = None
        if n and (streams or offset % chunk == 0 or index != (offset + n - 1) // chunk):
            self._fetcher.prefetch(content, offset, n)

    def _piecewise(self, key: str, content: Content, offset: int, size: int) -> bytes | None:
        """The range chunk by chunk, each from the verified buffers or the cache."""
        chunk = self._cache.chunk_range(content.size, 0)[1]
        end = min(offset + size, content.size)
        parts = []
        pos = offset
        while pos < end:
            stop = min(end, (pos // chunk + 1) * chunk)
            part = self._unkept.read(content.id, pos, stop - pos) or self._cache.peek(key, pos, stop - pos)
            if not part:
                return None
            parts.append(part)
            pos = stop
        return b"".join(parts)

    def opened(self, content: Content) -> None:
        self._cache.open_handle(content.sha256.hex())

    def closed(self, content: Content) -> None:
        self._cache.close_handle(content.sha256.hex())

    def cached(self, content: Content) -> str:
        key = content.sha256.hex()
        if content.size == 0 or self._cache.is_cached(key):
            return "yes"
        missing = self._cache.missing_chunks(key, content.size, 0, content.size)
        total = -(-content.size // self._cache.chunk_range(content.size, 0)[1])
        return "no" if len(missing) >= total else "partial"
