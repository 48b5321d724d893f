"""Eviction: named functions that free space by the bounds, the policy and the exemptions.

Each runs while the caller holds `Cache._db` (index and files change together) after the
ledger has been flushed (so access times are current):

- `purge_idle`       chunks not read for max_age_s        (rclone: purgeOld)
- `purge_over_quota` over max_bytes: down to LOW_WATER of it (rclone: purgeOverQuota)
- `purge_for_free_space` until min_free_bytes (at least INDEX_HEADROOM_BYTES) + the bytes
                     about to be written are free
- `evict_bytes`      at least N bytes by the policy: heads beyond HEADS_SHARE of max_bytes
                     first, then chunks, then the other heads. Open and pinned contents are
                     never candidates.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable

from fuse_mount.cache.config import CacheConfig
from fuse_mount.cache.index import ChunkRow, Index, is_full
from fuse_mount.cache.ledger import Ledger
from fuse_mount.cache.policies import get_policy
from fuse_mount.cache.store import Store

HEADS_SHARE = 0.25
"""Heads are evicted last only while they take at most this share of max_bytes: beyond it the
excess goes first, by the policy, so that many small heads cannot crowd out the data."""
LOW_WATER = 0.95
"""Over max_bytes, evict down to this fraction of it, so eviction runs in batches, not per put."""
INDEX_HEADROOM_BYTES = 256 * 1024
"""Always kept free on the cache's disk (whatever min_free_bytes says) so that the index can
still commit; and evicted beyond the data itself when a write meets a full disk. A test on a
2 MiB tmpfs filled to the last byte showed SQLite then failing every commit."""


class Evictor:
    def __init__(
        self, config: CacheConfig, index: Index, store: Store, ledger: Ledger, clock: Callable[[], float]
    ) -> None:
        self.config = config
        self.clock = clock
        self.policy = get_policy(config.policy)
        self.index = index
        self.store = store
        self.ledger = ledger

    def remove(self, rows: list[ChunkRow]) -> int:
        """Delete rows and their files; count them as evictions. Returns the bytes freed.

        Contents opened in this process since the last flush are skipped (the index does not
        know them yet)."""
        rows = [r for r in rows if not self.ledger.is_open(r.key)]
        try:
            with self.index.transaction():
                removed = self.index.remove_chunks(rows)
        except sqlite3.OperationalError as e:
            if not is_full(e):
                raise
            return 0  # the index cannot even record a deletion: nothing was evicted
        for r in removed:
            self.store.remove(r.key, r.idx)
        freed = sum(r.length for r in removed)
        if removed:
            self.ledger.add("evictions", len(removed))
            self.ledger.add("bytes_evicted", freed)
        return freed

    def evict_bytes(self, amount: int) -> int:
        """Evict at least `amount` bytes if that many may go, by the policy; returns bytes freed.

        Order: heads over their share of max_bytes, chunks, the remaining heads. Asks the
        index for about twice as many candidates as the mean size says are needed (usually
        one query per stage), doubling if that was not enough."""
        totals = self.index.totals()
        mean = max(1, totals.bytes // max(1, totals.chunks + totals.heads))
        over = totals.head_bytes - int(self.config.max_bytes * HEADS_SHARE) if self.config.max_bytes else 0
        freed = self._evict_stage(min(amount, over), True, mean) if over > 0 else 0
        freed += self._evict_stage(amount - freed, False, mean)
        return freed + self._evict_stage(amount - freed, True, mean)

    def _evict_stage(self, amount: int, heads: bool, mean: int) -> int:
        freed = 0
        limit = max(64, 2 * amount // mean)
        while freed < amount:
            rows = self.index.candidates(self.policy, self.clock(), heads, limit)
            take, want = [], amount - freed
            for r in rows:
                if not self.ledger.is_open(r.key):
                    take.append(r)
                    want -= r.length
                    if want <= 0:
                        break
            freed += self.remove(take)
            if len(rows) < limit:
                break
            limit *= 2
        return freed

    def purge_idle(self) -> int:
        if not self.config.max_age_s:
            return 0
        return self.remove(self.index.idle_since(self.clock() - self.config.max_age_s))

    def purge_over_quota(self, incoming: int = 0) -> int:
        """If cached + incoming bytes exceed max_bytes, evict down to LOW_WATER of it."""
        limit = self.config.max_bytes
        if not limit:
            return 0
        total = self.index.totals().bytes + incoming
        if total <= limit:
            return 0
        return self.evict_bytes(total - int(limit * LOW_WATER))

    def free_bytes(self) -> int:
        st = os.statvfs(self.config.dir)
        return st.f_bavail * st.f_frsize

    def purge_for_free_space(self, incoming: int = 0) -> bool:
        """Evict until min_free_bytes (at least INDEX_HEADROOM_BYTES) + incoming are free;
        False if that cannot be reached."""
        want = max(self.config.min_free_bytes, INDEX_HEADROOM_BYTES) + incoming
        while True:
            short = want - self.free_bytes()
            if short <= 0:
                return True
            if not self.evict_bytes(short):
                return False
