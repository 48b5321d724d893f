"""The mount's persistent block cache: verified chunks of contents, bounded and tunable.

Public interface (everything else in this package is internal):

- `CacheConfig`  the options (units in names), built from `[cache]` in odarchive.toml
- `Cache`        open/get/peek/missing_chunks/put_whole/put_chunk/open_handle/pin/evict/stats
- `CacheStats`   what `odarchive cache stats` shows
- `CacheError`, `CacheFullError`
- `POLICIES`     eviction policies by name ("lru", "size", "lfu")
- `replay.replay` replays an access trace against a policy and size (`odarchive cache replay`)

Inside: `cache.py` (the facade, lock order), `index.py` + `schema.sql` (SQLite index),
`store.py` (chunk files, verified reads), `reads.py` (planning reads, dropping bad chunks,
scrubbing), `writer.py` (room, ENOSPC, install),
`eviction.py` (the purge functions), `policies.py`, `ledger.py` (batched counters, access
times, open handles), `trace.py`, `replay.py`, `stats.py`, `config.py`, `errors.py`, `pids.py`.

Threads: FUSE workers and fetcher threads call `Cache` concurrently; the command line uses
the same index from another process. May import: the standard library and
`fuse_mount.errors`. Never `odarchive`.
"""

from fuse_mount.cache.cache import HEAD, Cache
from fuse_mount.cache.config import CacheConfig
from fuse_mount.cache.errors import CacheError, CacheFullError
from fuse_mount.cache.policies import POLICIES
from fuse_mount.cache.stats import CacheStats

__all__ = ["HEAD", "POLICIES", "Cache", "CacheConfig", "CacheError", "CacheFullError", "CacheStats"]
