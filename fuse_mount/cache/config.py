"""The cache's options: one typed, frozen table with units in the names.

Built by the command line from `[cache]` in `odarchive.toml` (and `--cache-*` flags) with
`ctx.settings.build(CacheConfig, "cache", ...)`. The analogy with rclone's VFS cache:

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


_BYTE_UNITS = {"": 1, "k": 1024, "m": MiB, "g": GiB, "t": 1024 * GiB}
_SECOND_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_bytes(text: str | int) -> int:
    """'16M', '10G', '512k', '1T', '1GiB' (binary, as rclone), '10GB' (decimal), or a number."""
    if isinstance(text, int):
        return text
    s = text.strip().lower().replace("_", "")
    scale = 1
    if s.endswith("ib"):
        s = s[:-2]
    elif s.endswith("b") and len(s) > 1 and s[-2] in "kmgt":
        s, scale = s[:-1], 1000
    elif s.endswith("b"):
        s = s[:-1]
    unit = s[-1:] if s[-1:] in "kmgt" else ""
    number = s[: len(s) - len(unit)]
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"not a size: {text!r} (use e.g. 512k, 16M, 10G, 1T)") from None
    factor = _BYTE_UNITS[unit] if scale == 1 else 1000 ** "_kmgt".index(unit)
    if value < 0:
        raise ValueError(f"not a size: {text!r} (negative)")
    return int(value * factor)


def parse_seconds(text: str | float) -> float:
    """'90', '90s', '15m', '12h', '30d', '2w' -> seconds."""
    if isinstance(text, (int, float)):
        return float(text)
    s = text.strip().lower()
    unit = s[-1:] if s[-1:] in "smhdw" else ""
    try:
        value = float(s[: len(s) - len(unit)])
    except ValueError:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 15m, 12h, 30d)") from None
    if value < 0:
        raise ValueError(f"not a duration: {text!r} (negative)")
    return value * _SECOND_UNITS[unit]
