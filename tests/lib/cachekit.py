"""Helpers for the cache tests: small configs, deterministic contents, a fake clock."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

from fuse_mount.cache import Cache, CacheConfig

CHUNK = 64 * 1024


class FakeClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def content(size: int, seed: int = 0) -> tuple[str, bytes]:
    """(sha256 hex, bytes) of a deterministic pseudo-random content."""
    data = random.Random(seed).randbytes(size)
    return hashlib.sha256(data).hexdigest(), data


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def config(tmp_path: Path, **overrides: Any) -> CacheConfig:
    values: dict[str, Any] = dict(
        dir=tmp_path / "cache", chunk_bytes=CHUNK, keep_heads_bytes=0, min_free_bytes=0, max_bytes=0
    )
    values.update(overrides)
    return CacheConfig(**values)


def open_cache(tmp_path: Path, clock: FakeClock | None = None, **overrides: Any) -> Cache:
    return Cache.open(config(tmp_path, **overrides), clock=clock or FakeClock())


def put_chunks(cache: Cache, key: str, data: bytes, indexes: list[int] | None = None) -> None:
    """Store chunks of `data` one by one, as the fetcher does for large contents."""
    cb = cache.config.chunk_bytes
    count = max(1, -(-len(data) // cb))
    for i in indexes if indexes is not None else range(count):
        piece = data[i * cb : (i + 1) * cb]
        assert cache.put_chunk(key, len(data), i, piece, sha(piece))
