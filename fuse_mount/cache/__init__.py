"""The mount's persistent block cache: verified chunks of contents, bounded and tunable.

Public interface (everything else in this package is internal):

- `CacheConfig`  the options (units in names), built from `[cache]` in odarchive.toml
- `Cache`        open/get/peek/put_whole/put_chunk/open_handle/pin/evict/stats (cache.py)
- `CacheStats`   what `odarchive cache stats` shows
- `CacheError`, `CacheFullError`
- `POLICIES`     eviction policies by name ("lru", "size")
- `replay`       `python -m fuse_mount.cache.replay TRACE` replays a trace for tuning

May import: the standard library and `fuse_mount.errors`. Never `odarchive`.
"""

from fuse_mount.cache.cache import HEAD, Cache
from fuse_mount.cache.config import CacheConfig
from fuse_mount.cache.errors import CacheError, CacheFullError
from fuse_mount.cache.policies import POLICIES
from fuse_mount.cache.stats import CacheStats

__all__ = ["HEAD", "POLICIES", "Cache", "CacheConfig", "CacheError", "CacheFullError", "CacheStats"]
