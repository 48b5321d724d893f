"""Benchmark the mount's cache: hit ratio per policy and size on a replayed synthetic trace,
and cached read throughput against reading the same bytes natively.

    .venv/bin/python benchmarks/bench_cache.py [--quick] [--json]

Part 1 (tuning): a synthetic trace of an archive browsed and read over days: 2,000 files
(documents 20-200 kB, photos 2-8 MB, a few videos of 100-400 MB) with Zipf-like popularity,
plus a file manager listing folders and reading every file's first 4 kB. Replayed with the
live cache's model (fuse_mount.cache.replay) for each policy and max size, with and without
keep_heads. The baseline is "lru, no heads", the only policy rclone's VFS cache has
(--vfs-cache-max-size with LRU eviction); other rows are shown as ratios of hit ratio and of
bytes fetched from discs (fewer is better: each fetch may cost a disc load).

Part 2 (speed, default settings: trace on): a 256 MiB content in 16 MiB chunks, read in 128 KiB
sequential reads (the FUSE read size) through Cache.get: the first pass verifies every block, later
passes use the verified-block memo. Compared with os.pread of the same bytes from one
native file (page cache warm). Also 4 kB small-file reads per second against
open+read+close of native files.

Part 3 (eviction at scale): an index of 100,000 cached chunks (rows only), 1 % pinned; the
time one eviction of 5 % of the bytes holds the cache's lock, per policy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fuse_mount.cache import Cache, CacheConfig
from fuse_mount.cache.replay import replay
from fuse_mount.cache.trace import Access

MiB = 1024 * 1024
GiB = 1024 * MiB


def synthetic_trace(seed: int = 1, files: int = 2000, reads: int = 20000) -> tuple[list[Access], int]:
    rng = random.Random(seed)
    catalogue = []
    for i in range(files):
        kind = rng.random()
        if kind < 0.5:
            size = rng.randint(20_000, 200_000)
        elif kind < 0.98:
            size = rng.randint(2 * 10**6, 8 * 10**6)
        else:
            size = rng.randint(100 * 10**6, 400 * 10**6)
        catalogue.append((hashlib.sha256(f"{seed}-{i}".encode()).hexdigest(), size))
    total = sum(s for _, s in catalogue)
    weights = [1 / (rank + 1) ** 0.9 for rank in range(files)]
    order = list(range(files))
    rng.shuffle(order)
    t = 0.0
    out = []
    folder = 50
    for n in range(reads):
        t += rng.expovariate(1 / 30)
        if n % 400 == 0:  # a file manager opens a folder of 50 files: reads every header
            start = rng.randrange(0, files - folder)
            for key, size in catalogue[start : start + folder]:
                t += 0.01
                out.append(Access(t, key, size, 0, min(4096, size), False))
        key, size = catalogue[order[rng.choices(range(files), weights)[0]]]
        if size > 50 * 10**6 and rng.random() < 0.7:  # videos: a seek and a few MB
            off = rng.randrange(size)
            out.append(Access(t, key, size, off, min(8 * MiB, size - off), False))
        else:
            out.append(Access(t, key, size, 0, size, False))
    return out, total


def bench_policies(quick: bool) -> list[dict]:
    trace, total = synthetic_trace(reads=4000 if quick else 20000)
    rows = []
    for frac in (0.02, 0.05, 0.10, 0.25):
        size = int(total * frac)
        base = replay(trace, "lru", size)
        for policy in ("lru", "size", "lfu"):
            for heads in (0, 64 * 1024):
                r = base if (policy, heads) == ("lru", 0) else replay(trace, policy, size, head_bytes=heads)
                rows.append(
                    {
                        "cache_fraction": frac,
                        "max_bytes": size,
                        "policy": policy,
                        "keep_heads_bytes": heads,
                        "hit_ratio": r.hit_ratio,
                        "bytes_fetched": r.bytes_fetched,
                        "evictions": r.evictions,
                        "hit_ratio_vs_lru": round(r.hit_ratio / base.hit_ratio, 3) if base.hit_ratio else None,
                        "fetched_vs_lru": round(r.bytes_fetched / base.bytes_fetched, 3)
                        if base.bytes_fetched
                        else None,
                    }
                )
    return rows


def _mbps(nbytes: int, seconds: float) -> float:
    return round(nbytes / seconds / 1e6, 1)


def bench_reads(tmp: Path, quick: bool) -> dict:
    size = (64 if quick else 256) * MiB
    data = os.urandom(size)
    key = hashlib.sha256(data).hexdigest()
    native = tmp / "native.bin"
    native.write_bytes(data)
    read = 128 * 1024
    with Cache.open(CacheConfig(dir=tmp / "cache", max_bytes=4 * GiB, min_free_bytes=0, trace=False)) as cache:
        cache.put_whole(key, data)
    passes = {}
    with Cache.open(
        CacheConfig(dir=tmp / "cache", max_bytes=4 * GiB, min_free_bytes=0)
    ) as cache:  # trace on, as by default
        for name in ("first_pass_verifying", "later_pass"):
            t0 = time.perf_counter()
            for off in range(0, size, read):
                assert cache.get(key, off, read) is not None
            passes[name] = _mbps(size, time.perf_counter() - t0)
        fd = os.open(native, os.O_RDONLY)
        for off in range(0, size, read):  # warm the page cache
            os.pread(fd, read, off)
        t0 = time.perf_counter()
        for off in range(0, size, read):
            os.pread(fd, read, off)
        native_mbps = _mbps(size, time.perf_counter() - t0)
        os.close(fd)

        small = [os.urandom(4096) for _ in range(500 if quick else 2000)]
        keys = [hashlib.sha256(s).hexdigest() for s in small]
        for k, s in zip(keys, small):
            cache.put_whole(k, s)
        sdir = tmp / "small"
        sdir.mkdir()
        for i, s in enumerate(small):
            (sdir / str(i)).write_bytes(s)
        for k in keys:
            cache.get(k, 0, 4096)  # verify once, as a first read would
        t0 = time.perf_counter()
        for k in keys:
            cache.open_handle(k)
            cache.get(k, 0, 4096)
            cache.close_handle(k)
        cached_fps = len(keys) / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for i in range(len(small)):
            with open(sdir / str(i), "rb") as f:
                f.read()
        native_fps = len(keys) / (time.perf_counter() - t0)
    return {
        "content_bytes": size,
        "read_bytes": read,
        "cached_first_pass_MBps": passes["first_pass_verifying"],
        "cached_MBps": passes["later_pass"],
        "native_MBps": native_mbps,
        "cached_vs_native": round(passes["later_pass"] / native_mbps, 3),
        "small_files": len(small),
        "cached_small_files_per_s": round(cached_fps),
        "native_small_files_per_s": round(native_fps),
        "small_vs_native": round(cached_fps / native_fps, 3),
    }


def bench_eviction(tmp: Path, quick: bool) -> dict:
    from fuse_mount.cache.eviction import Evictor
    from fuse_mount.cache.index import Index
    from fuse_mount.cache.ledger import Ledger
    from fuse_mount.cache.store import Store

    n = 20000 if quick else 100000
    out = {}
    for policy in ("lru", "size", "lfu"):
        root = tmp / f"evict-{policy}"
        root.mkdir()
        index = Index.open(root / "index.sqlite")
        rng = random.Random(1)
        with index.transaction():
            for i in range(n):
                key = hashlib.sha256(str(i).encode()).hexdigest()
                index.add_chunk(key, 16 * MiB, 0, rng.choice([64 * 1024, 16 * MiB]), b"", rng.random() * 1e6)
                if i % 100 == 0:
                    index.set_pinned(key, None, True)
        store = Store(root)
        store.prepare()
        config = CacheConfig(dir=root, policy=policy, max_bytes=0, min_free_bytes=0)
        evictor = Evictor(config, index, store, Ledger(), lambda: 1e6)
        amount = index.totals().bytes // 20
        t0 = time.perf_counter()
        freed = evictor.evict_bytes(amount)
        out[f"{policy}_evict_5pct_of_{n}_chunks_s"] = round(time.perf_counter() - t0, 3)
        assert freed >= amount
        index.close()
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller trace and contents")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    policies = bench_policies(args.quick)
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        reads = bench_reads(Path(tmp), args.quick)
        eviction = bench_eviction(Path(tmp), args.quick)
    if args.json:
        print(json.dumps({"policies": policies, "reads": reads, "eviction": eviction}, indent=2))
        return 0
    print("hit ratio by policy and cache size (synthetic trace; baseline: lru without heads = rclone's VFS cache)")
    print(f"{'cache':>6} {'policy':<6} {'heads':>6} {'hit_ratio':>9} {'vs_lru':>7} {'fetched_GB':>10} {'vs_lru':>7}")
    for r in policies:
        print(
            f"{r['cache_fraction']:>6.0%} {r['policy']:<6} {r['keep_heads_bytes'] // 1024:>5}k {r['hit_ratio']:>9.3f}"
            f" {r['hit_ratio_vs_lru']:>7} {r['bytes_fetched'] / 1e9:>10.2f} {r['fetched_vs_lru']:>7}"
        )
    print()
    print("cached reads (128 KiB reads of one content) and 4 kB small files, against native")
    for k, v in reads.items():
        print(f"  {k}: {v}")
    print()
    print("one eviction of 5 % of the bytes (time the cache lock is held)")
    for k, v in eviction.items():
        print(f"  {k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
