"""The cache's options: one typed, frozen table with units in the names.

Built by the command line from `[cache]` in `odarchive.toml` (and `--cache-*` flags) with
`ctx.settings.build(CacheConfig, "cache", ...)`, which reads sizes and durations in the one
grammar of the command line (odarchive.options); here every value is already a number. The analogy with rclone's VFS cache:

    max_bytes       ~ --vfs-cache-max-size        (0: no size bound)
    max_age_s       ~ --vfs-cache-max-age         (0: no age bound)
    min_free_bytes  ~ --vfs-cache-min-free-space  (at least 256 KiB is always kept free)
    policy          rclone only has LRU; here "lru" or "size" (see policies.py)
    keep_heads_bytes  no rclone peer: the first bytes of every content are evicted last
    chunk_bytes     ~ --vfs-read-chunk-size, but fixed: it must match the catalogue's
                    per-chunk hashes (meta chunk_size), default 16 MiB
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True)
class CacheConfig:
    dir: Path
    """Where the index (`index.sqlite`), data files and trace live; default `<home>/cache`."""
    max_bytes: int = 10 * GiB
    """Upper bound on cached bytes (data + heads); 0 = unbounded."""
    max_age_s: float = 0.0
    """Chunks not read for this long are evicted (unless open, pinned or heads); 0 = never."""
    min_free_bytes: int = 1 * GiB
    """Keep at least this much free space on the cache's file system (never less than 256 KiB,
    so the index can always commit)."""
    policy: str = "lru"
    """Eviction order: a name in `fuse_mount.cache.policies.POLICIES` ("lru", "size")."""
    keep_heads_bytes: int = 64 * 1024
    """The first N bytes of every cached content are kept and evicted last (0: off), while
    heads take at most a quarter of max_bytes. Capped at chunk_bytes. Contents no larger than
    N live entirely in their head."""
    chunk_bytes: int = 16 * MiB
    """Contents are cached in chunks of this size; must equal the catalogue's chunk_size."""
    trace: bool = True
    """Append every access as a JSON line to `<dir>/trace.jsonl` (for `replay`)."""
    trace_max_bytes: int = 64 * MiB
    """The trace is rotated to `trace.jsonl.1` when it grows past this size."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "dir", Path(self.dir))  # TOML and the environment give a str
        for name in ("max_bytes", "min_free_bytes", "keep_heads_bytes", "trace_max_bytes"):
            if getattr(self, name) < 0:
                raise ValueError(f"cache {name} must be >= 0, not {getattr(self, name)}")
        if self.max_age_s < 0:
            raise ValueError(f"cache max_age_s must be >= 0, not {self.max_age_s}")
        if self.chunk_bytes <= 0:
            raise ValueError(f"cache chunk_bytes must be > 0, not {self.chunk_bytes}")

    @property
    def head_bytes(self) -> int:
        """The effective head size: keep_heads_bytes capped at one chunk."""
        return min(self.keep_heads_bytes, self.chunk_bytes)
