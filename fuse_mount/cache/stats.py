"""What `odarchive cache stats` reports, as one frozen record."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class CacheStats:
    hits: int
    """Reads served entirely from the cache."""
    misses: int
    """Reads that needed at least one chunk that was not cached (or was corrupt)."""
    hit_ratio: float
    """hits / (hits + misses); 0.0 before the first read."""
    bytes_served: int
    """Bytes returned by hits."""
    bytes_cached: int
    """Bytes held now (data chunks + heads), as accounted in the index."""
    evictions: int
    """Chunks (and heads) removed to respect the bounds, or by `evict`."""
    disc_loads: int
    """Discs loaded into a drive to fill misses (reported by the fetcher)."""
    mean_wait_s: float
    """Mean time a miss waited for its data (reported by the fetcher)."""
    max_wait_s: float
    """Longest such wait."""
    bytes_evicted: int
    corrupt_drops: int
    """Cached chunks whose bytes no longer matched their hash: dropped and fetched again."""
    full_errors: int
    """Puts refused because the cache disk stayed full after evicting (CacheFullError)."""
    contents: int
    """Contents with data cached or a pin."""
    chunks: int
    heads: int
    pinned: int
    """Contents pinned (kept whatever the bounds)."""
    open_handles: int
    """Open handles recorded by live processes (their contents are never evicted)."""
    max_bytes: int
    free_bytes: int
    """Free space on the cache's file system now."""
    policy: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
