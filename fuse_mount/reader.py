"""File bytes for the VFS: the cache first, the fetcher on a miss (`vfs.ContentReader`).

A hit is served by `Cache.get`; a miss asks the fetcher to fill the cache (blocking this one
reader until the disc is read, or until the disc timeout), then re-reads with `Cache.peek`,
so the bytes served are always the verified ones the cache holds. Open files hold a cache
handle, so their chunks are not evicted while they are read.

Threads: called from many FUSE threads; holds no lock of its own.
"""

from __future__ import annotations

import time

from fuse_mount.cache import Cache
from fuse_mount.catalogue_view import Content
from fuse_mount.errors import DiscUnavailable
from fuse_mount.fetcher import Fetcher


class CachedReader:
    def __init__(self, cache: Cache, fetcher: Fetcher, retries: int = 2) -> None:
        self._cache = cache
        self._fetcher = fetcher
        self._retries = retries

    def read(self, content: Content, offset: int, size: int) -> bytes:
        key = content.sha256.hex()
        data = self._cache.get(key, offset, size)
        if data is not None:
            return data
        start = time.monotonic()
        try:
            for _ in range(self._retries):  # a concurrent eviction or corrupt drop: fetch again
                self._fetcher.fetch(content, offset, size)
                data = self._cache.peek(key, offset, size)
                if data is not None:
                    return data
        finally:
            self._cache.record_wait(time.monotonic() - start)
        raise DiscUnavailable(f"content {key[:16]} bytes {offset}+{size} did not stay in the cache")

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
