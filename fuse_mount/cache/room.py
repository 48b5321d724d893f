"""Whether the cache's bounds can be met on its disk: what `odarchive mount` warns about.

A cache whose disk is smaller than `min_free_bytes`, or with less room than one chunk, keeps
nothing (or not the large files): reads still succeed, served verified straight from the
discs (`fuse_mount.reader`), but every read of such a file loads its disc again. Saying so at
mount time beats finding out from the disc loads.
"""

from __future__ import annotations

import os

from fuse_mount.cache.config import CacheConfig
from fuse_mount.cache.eviction import INDEX_HEADROOM_BYTES

MiB = 1024 * 1024


def _size(n: int) -> str:
    return f"{n / MiB:.1f} MiB" if n < 1024 * MiB else f"{n / (1024 * MiB):.1f} GiB"


def room_warnings(config: CacheConfig) -> list[str]:
    """Sentences about bounds that cannot be met on the disk of `config.dir` (empty if fine)."""
    st = os.statvfs(config.dir)
    total, free = st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize
    floor = max(config.min_free_bytes, INDEX_HEADROOM_BYTES)
    where = f"the cache's disk ({config.dir}, {_size(total)})"
    if floor >= total:
        return [
            f"{where} is smaller than min_free_bytes ({_size(floor)}): nothing can be kept, every read is"
            " served straight from the discs; lower --cache-min-free ([cache] min_free_bytes)"
        ]
    out = []
    if free <= floor:
        out.append(
            f"{where} has {_size(free)} free, not more than min_free_bytes ({_size(floor)}): nothing new is"
            " kept until space is freed; reads are served straight from the discs"
        )
    room = total - floor if not config.max_bytes else min(total - floor, config.max_bytes)
    if room < config.chunk_bytes:
        out.append(
            f"the cache can hold {_size(room)}, less than one chunk ({_size(config.chunk_bytes)}): larger files"
            " are not kept and are read from the discs each time they are read"
        )
    return out
