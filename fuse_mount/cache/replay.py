"""Replay an access trace against other policies and sizes: how users tune eviction.

    odarchive cache replay [--policies lru,size,lfu] [--sizes 1G,4GiB] [--keep-heads 64KiB]
                           [--max-age 30d] [--json]

Each (policy, max_bytes) pair gets a fresh simulated cache fed the trace in order. The model
is the live cache's: chunks of `chunk_bytes`, a head of `keep_heads` bytes per content that
goes last, eviction down to LOW_WATER of max_bytes with the same policy functions, idle chunks
dropped after max_age, ties broken as the index breaks them. A miss stores exactly the
missing chunks the read needs, one put per chunk (the live fetcher may read ahead, so it can
only do better). The content being read is never evicted for its own fetch, as an open file
is not. On such a workload the replay reproduces the live cache's hits, misses and evictions
exactly (tests/unit/test_cache_trace.py). A run of n sequential reads (one trace line) counts
one miss per missing chunk and n hits otherwise, as the live cache does when it fetches chunk
by chunk; within a run, access times are approximated by the run's last. Output: hit ratio, bytes fetched from discs and
evictions per configuration, best hit ratio first. It plays the role of trying rclone's
--vfs-cache-max-size/--vfs-cache-max-age on a recorded workload, without waiting a week.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fuse_mount.cache.config import MiB
from fuse_mount.cache.eviction import HEADS_SHARE, LOW_WATER
from fuse_mount.cache.index import HEAD
from fuse_mount.cache.policies import Policy, get_policy
from fuse_mount.cache.trace import Access

MAINTAIN_INTERVAL_S = 2.0


@dataclass(frozen=True)
class ReplayResult:
    policy: str
    max_bytes: int
    hits: int
    misses: int
    hit_ratio: float
    bytes_fetched: int
    evictions: int


class SimulatedCache:
    """The live cache's bookkeeping without the bytes: which chunks, how big, when read."""

    def __init__(self, policy: Policy, max_bytes: int, chunk_bytes: int, head_bytes: int, max_age_s: float) -> None:
        self.policy, self.max_bytes, self.chunk_bytes = policy, max_bytes, chunk_bytes
        self.head_bytes, self.max_age_s = min(head_bytes, chunk_bytes), max_age_s
        self.entries: dict[tuple[str, int], list[float]] = {}  # (key, idx) -> [length, last_access, hits, seq]
        self._seq = 0  # insertion order, the last tie-breaker (the index's rowid)
        self.total = 0
        self.hits = self.misses = self.fetched = self.evictions = 0
        self._last_maintain = float("-inf")

    def access(self, a: Access) -> bool:
        if a.t - self._last_maintain >= MAINTAIN_INTERVAL_S and self.max_age_s:
            self._last_maintain = a.t
            self._evict([k for k, e in self.entries.items() if k[1] != HEAD and e[1] < a.t - self.max_age_s])
        n = max(0, min(a.len, a.size - a.off))
        cb = self.chunk_bytes
        head = self.entries.get((a.key, HEAD))
        if n == 0:
            needed: list[tuple[str, int]] = []
        elif head is not None and a.off + n <= head[0]:
            needed = [(a.key, HEAD)]
        else:
            needed = [(a.key, i) for i in range(a.off // cb, (a.off + n - 1) // cb + 1)]
        missing = [k for k in needed if k not in self.entries]
        # A run of n sequential reads: the first read entering each missing chunk misses
        # (and fetches it), every other read hits.
        misses = min(a.n, len(missing))
        self.hits += a.n - misses
        self.misses += misses
        if not missing or a.n > 1:  # a single read that misses touches nothing, as in the cache
            for k in needed:
                if k in self.entries:
                    self.entries[k][1] = a.t
                    self.entries[k][2] += a.n - misses
        if missing:
            self._fetch(a, missing)
        return not missing

    def _fetch(self, a: Access, missing: list[tuple[str, int]]) -> None:
        """Store each missing chunk as the fetcher does: one put (chunk + head) at a time."""
        for key, idx in missing:
            length = min(self.chunk_bytes, a.size - idx * self.chunk_bytes)
            self.fetched += length
            new: dict[tuple[str, int], int] = {}
            if idx == 0 and self.head_bytes and (key, HEAD) not in self.entries:
                new[(key, HEAD)] = min(self.head_bytes, a.size)
            if not (idx == 0 and self.head_bytes and a.size <= self.head_bytes):
                new[(key, idx)] = length
            incoming = sum(new.values())
            if self.max_bytes and self.total + incoming > self.max_bytes:
                self._evict_bytes(self.total + incoming - int(self.max_bytes * LOW_WATER), a.t, a.key)
            for k, nbytes in new.items():
                self._seq += 1
                self.entries[k] = [nbytes, a.t, 0, self._seq]
                self.total += nbytes

    def _evict_bytes(self, amount: int, now: float, reading: str) -> None:
        """As Evictor.evict_bytes: heads over their share, chunks, then the other heads."""
        head_bytes = sum(int(e[0]) for k, e in self.entries.items() if k[1] == HEAD)
        over = head_bytes - int(self.max_bytes * HEADS_SHARE)
        freed = self._evict_stage(min(amount, over), True, now, reading) if over > 0 else 0
        freed += self._evict_stage(amount - freed, False, now, reading)
        self._evict_stage(amount - freed, True, now, reading)

    def _evict_stage(self, amount: int, heads: bool, now: float, reading: str) -> int:
        if amount <= 0:
            return 0
        ranked = sorted(
            (
                (-self.policy(int(e[0]), e[1], int(e[2]), now), e[1], e[3], k)
                for k, e in self.entries.items()
                if (k[1] == HEAD) == heads and k[0] != reading
            ),
        )
        take, freed = [], 0
        for *_, k in ranked:
            if freed >= amount:
                break
            take.append(k)
            freed += int(self.entries[k][0])
        self._evict(take)
        return freed

    def _evict(self, keys: Iterable[tuple[str, int]]) -> None:
        for k in keys:
            self.total -= int(self.entries.pop(k)[0])
            self.evictions += 1


def replay(
    accesses: Sequence[Access],
    policy: str,
    max_bytes: int,
    *,
    chunk_bytes: int = 16 * MiB,
    head_bytes: int = 0,
    max_age_s: float = 0.0,
) -> ReplayResult:
    """Feed `accesses` in time order to a fresh simulated cache; accesses of unknown size are
    skipped. (The trace writes a run of reads when it ends, so lines are not in time order.)"""
    sim = SimulatedCache(get_policy(policy), max_bytes, chunk_bytes, head_bytes, max_age_s)
    for a in sorted(accesses, key=lambda a: a.t):
        if a.size >= 0:
            sim.access(a)
    lookups = sim.hits + sim.misses
    return ReplayResult(
        policy,
        max_bytes,
        sim.hits,
        sim.misses,
        round(sim.hits / lookups, 4) if lookups else 0.0,
        sim.fetched,
        sim.evictions,
    )
