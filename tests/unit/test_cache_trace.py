"""The access trace and its replay: the replay models the live cache, and policies differ."""

from __future__ import annotations

import json

import pytest

from fuse_mount.cache.replay import replay
from fuse_mount.cache.trace import Access, TraceWriter, read_trace
from tests.lib.cachekit import CHUNK, FakeClock, content, open_cache, put_chunks, sha


def test_every_access_is_traced(tmp_path):
    key, data = content(CHUNK + 10, seed=1)
    with open_cache(tmp_path) as cache:
        cache.get(key, 0, 10, size=len(data))
        cache.put_whole(key, data)
        cache.get(key, 5, 2 * CHUNK)
        cache.peek(key, 0, 10)  # not traced
        unknown, _ = content(5, seed=2)
        cache.get(unknown, 0, 10)
        path = cache.trace_path
    with path.open("a") as f:
        f.write('{"t": 1, "key": "torn')  # a crash mid-line
    got = list(read_trace(path))
    assert [(a.key, a.size, a.off, a.len, a.hit) for a in got] == [
        (key, CHUNK + 10, 0, 10, False),
        (key, CHUNK + 10, 5, CHUNK + 5, True),
        (unknown, -1, 0, 10, False),
    ]


def test_sizes_unknown_at_a_miss_are_filled_in_from_the_store(tmp_path):
    key, data = content(CHUNK + 10, seed=1)
    with open_cache(tmp_path) as cache:
        assert cache.get(key, 100, 10) is None  # the reader did not pass the size
        cache.put_chunk(key, len(data), 0, data[:CHUNK], sha(data[:CHUNK]))
        cache.get(key, 100, 10)
        path = cache.trace_path
    assert '"size":-1' in path.read_text()
    got = [(a.size, a.hit) for a in read_trace(path)]
    assert got == [(CHUNK + 10, False), (CHUNK + 10, True)]


def test_trace_is_rotated(tmp_path):
    path = tmp_path / "trace.jsonl"
    writer = TraceWriter(path, max_bytes=500, flush_interval_s=0)
    for i in range(20):
        writer.append(Access(float(i), "k" * 64, 10, 0, 1, True))
    writer.close()
    rotated = path.with_name("trace.jsonl.1")
    assert rotated.exists() and rotated.stat().st_size <= 500 + 200
    assert [a.t for a in read_trace(path)][-1] == 19.0
    assert len(list(read_trace(path))) <= 20


def _live_workload(tmp_path, policy, accesses, **cfg):
    """Run accesses through the live cache as the mount would: open, get, fetch misses, close."""
    clock = FakeClock()
    with open_cache(tmp_path, clock, policy=policy, **cfg) as cache:
        for key, data, off, n in accesses:
            clock.advance(1)
            cache.open_handle(key)
            if cache.get(key, off, n) is None:  # as the mount's reader calls it: no size
                put_chunks(cache, key, data, cache.missing_chunks(key, len(data), off, n))
            cache.close_handle(key)
        return cache.stats(), cache.trace_path


@pytest.mark.parametrize("heads", [0, 4096])
@pytest.mark.parametrize("policy", ["lru", "size", "lfu"])
def test_replay_reproduces_the_live_cache(tmp_path, policy, heads):
    import random

    rng = random.Random(7)
    pool = [content(rng.choice([1000, CHUNK // 8, CHUNK // 2, CHUNK, 3 * CHUNK - 7]), seed=i) for i in range(30)]
    accesses = []
    for _ in range(300):
        key, data = pool[min(int(rng.expovariate(0.15)), 29)]
        off = rng.randrange(len(data))
        accesses.append((key, data, off, rng.randrange(1, len(data) + 1)))
    live, trace = _live_workload(tmp_path, policy, accesses, max_bytes=6 * CHUNK, keep_heads_bytes=heads)
    sim = replay(list(read_trace(trace)), policy, 6 * CHUNK, chunk_bytes=CHUNK, head_bytes=heads)
    assert (sim.hits, sim.misses, sim.evictions) == (live.hits, live.misses, live.evictions)


def _scan_pollution_trace():
    """20 small files read over and over, interleaved with one pass over big files."""
    small = [content(CHUNK // 4, seed=i) for i in range(20)]
    big = [content(4 * CHUNK, seed=100 + i) for i in range(10)]
    out, t = [], 0.0
    for round_ in range(10):
        for key, data in small:
            t += 1
            out.append(Access(t, key, len(data), 0, len(data), False))
        key, data = big[round_]
        for i in range(4):
            t += 1
            out.append(Access(t, key, len(data), i * CHUNK, CHUNK, False))
    return out


def test_a_size_aware_policy_beats_lru_on_scan_pollution():
    trace = _scan_pollution_trace()
    lru = replay(trace, "lru", 8 * CHUNK, chunk_bytes=CHUNK)
    size = replay(trace, "size", 8 * CHUNK, chunk_bytes=CHUNK)
    big_enough = replay(trace, "lru", 64 * CHUNK, chunk_bytes=CHUNK)
    assert size.hit_ratio > lru.hit_ratio
    assert big_enough.hit_ratio >= size.hit_ratio
    assert big_enough.evictions == 0


def test_keep_heads_turns_header_reads_into_hits():
    files = [content(2 * CHUNK, seed=i) for i in range(10)]
    trace, t = [], 0.0
    for _ in range(5):
        for key, data in files:  # a file manager reads headers, then someone reads a whole file
            t += 1
            trace.append(Access(t, key, len(data), 0, 4096, False))
        t += 1
        key, data = files[int(t) % 10]
        trace.append(Access(t, key, len(data), 0, len(data), False))
    without = replay(trace, "lru", 4 * CHUNK, chunk_bytes=CHUNK)
    with_heads = replay(trace, "lru", 4 * CHUNK, chunk_bytes=CHUNK, head_bytes=4096)
    assert with_heads.hit_ratio > without.hit_ratio + 0.3


def test_replay_command_line(cli, home, tmp_path):
    path = tmp_path / "trace.jsonl"
    path.write_text(
        "".join(
            json.dumps({"t": a.t, "key": a.key, "size": a.size, "off": a.off, "len": a.len, "hit": a.hit}) + "\n"
            for a in _scan_pollution_trace()
        )
    )
    (home / "odarchive.toml").write_text(f'[cache]\nchunk_bytes = "{CHUNK}"\n')
    r = cli("cache", "replay", "--trace", str(path), "--sizes", "512KiB,4MiB", "--keep-heads", "4KiB", "--json")
    rows = r.json()["results"]
    assert r.code == 0 and len(rows) == 6 and {row["policy"] for row in rows} == {"lru", "size", "lfu"}
    assert {row["max_bytes"] for row in rows} == {512 * 1024, 4 * 1024 * 1024}
    assert rows[0]["hit_ratio"] >= rows[-1]["hit_ratio"]
    for row in rows:  # the flags reach the model
        expected = replay(_scan_pollution_trace(), row["policy"], row["max_bytes"], chunk_bytes=CHUNK, head_bytes=4096)
        assert (row["hits"], row["misses"], row["evictions"]) == (expected.hits, expected.misses, expected.evictions)
    r = cli("cache", "replay", "--trace", str(path), "--sizes", "1MB")
    assert r.code == 0 and "1 MB" in r.out and "hit ratio" in r.out
    r = cli("cache", "replay", "--trace", str(path), "--policies", "fifo")
    assert r.code == 2 and "fifo" in r.err
    r = cli("cache", "replay", "--trace", str(path), "--sizes", "lots")
    assert r.code == 2 and "not a size" in r.err


def test_sequential_reads_are_one_line_and_replay_as_many(tmp_path):
    clock = FakeClock()
    key, data = content(4 * CHUNK, seed=3)
    step = CHUNK // 8
    with open_cache(tmp_path, clock) as cache:
        cache.open_handle(key)
        for _ in range(2):  # read it all twice: first pass misses once per chunk
            for off in range(0, len(data), step):
                clock.advance(0.01)
                if cache.get(key, off, step) is None:
                    put_chunks(cache, key, data, cache.missing_chunks(key, len(data), off, step))
        clock.advance(5)
        cache.get(key, 0, 10)  # a later read is a new line
        live = cache.stats()
        path = cache.trace_path
    lines = path.read_text().splitlines()
    reads = [json.loads(x) for x in lines if '"op"' not in x]
    assert len(reads) < 20 and sum(r.get("n", 1) for r in reads) == 2 * 32 + 1
    assert (live.hits, live.misses) == (2 * 32 + 1 - 4, 4)
    sim = replay(list(read_trace(path)), "lru", 0, chunk_bytes=CHUNK)
    assert (sim.hits, sim.misses) == (live.hits, live.misses)


def test_runs_break_on_gaps_outcome_and_time(tmp_path):
    writer = TraceWriter(tmp_path / "t.jsonl", max_bytes=1 << 20)
    for _i, (t, off, hit) in enumerate(
        [(0.0, 0, True), (0.1, 10, True), (0.2, 30, True), (0.3, 40, False), (5.0, 50, False)]
    ):
        writer.append(Access(t, "k", 100, off, 10, hit))
    writer.close()
    got = [(a.off, a.len, a.n, a.hit) for a in read_trace(tmp_path / "t.jsonl")]
    assert got == [(0, 20, 2, True), (30, 10, 1, True), (40, 10, 1, False), (50, 10, 1, False)]
