"""Eviction: bounded by size, age and free space under each policy; open, pinned and heads kept."""

from __future__ import annotations

import pytest

from fuse_mount.cache import POLICIES, CacheError, CacheFullError
from fuse_mount.cache.eviction import Evictor
from tests.lib.cachekit import CHUNK, FakeClock, content, open_cache
from tests.lib.pids import dead_pid


def cached(cache, key) -> bool:
    return cache.is_cached(key)


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_max_bytes_holds_under_every_policy(tmp_path, policy):
    clock = FakeClock()
    with open_cache(tmp_path, clock, policy=policy, max_bytes=10 * CHUNK) as cache:
        keys = []
        for i in range(30):
            clock.advance(1)
            key, data = content(CHUNK, seed=i)
            assert cache.put_whole(key, data)
            keys.append(key)
            assert cache.stats().bytes_cached <= 10 * CHUNK
            assert cache.get(key, 0, 10) == data[:10]  # what was just stored is there
        s = cache.stats()
    assert s.evictions >= 20 and s.bytes_evicted == s.evictions * CHUNK


def test_lru_evicts_the_least_recently_read(tmp_path):
    clock = FakeClock()
    with open_cache(tmp_path, clock, policy="lru", max_bytes=10 * CHUNK) as cache:
        keys = []
        for i in range(10):
            clock.advance(1)
            key, data = content(CHUNK, seed=i)
            cache.put_whole(key, data)
            keys.append(key)
        clock.advance(1)
        assert cache.get(keys[0], 0, 1) is not None  # k0 is now the most recent
        clock.advance(1)
        cache.put_whole(*content(CHUNK, seed=99))  # 11 chunks: down to 9.5 -> two go
        assert [cached(cache, k) for k in keys] == [True, False, False] + [True] * 7


def _small_old_big_new(tmp_path, policy):
    """4 small contents stored long ago, one 4-chunk content recently; then 4 more chunks."""
    clock = FakeClock()
    cache = open_cache(tmp_path, clock, policy=policy, max_bytes=8 * CHUNK)
    small = []
    for i in range(4):
        clock.advance(1)
        key, data = content(CHUNK // 4, seed=i)
        cache.put_whole(key, data)
        small.append(key)
    clock.advance(10)
    big, data = content(4 * CHUNK, seed=10)
    cache.put_whole(big, data)
    clock.advance(10)
    cache.put_whole(*content(4 * CHUNK, seed=11))
    return cache, small, big


def test_lru_drops_old_small_files_first(tmp_path):
    cache, small, _big = _small_old_big_new(tmp_path, "lru")
    with cache:
        assert not any(cached(cache, k) for k in small)
        assert cache.stats().bytes_cached <= 8 * CHUNK


def test_size_policy_drops_big_chunks_before_small_files(tmp_path):
    cache, small, big = _small_old_big_new(tmp_path, "size")
    with cache:
        assert all(cached(cache, k) for k in small)
        assert not cached(cache, big)
        assert cache.stats().bytes_cached <= 8 * CHUNK


def test_lfu_keeps_what_is_read_often(tmp_path):
    clock = FakeClock()
    with open_cache(tmp_path, clock, policy="lfu", max_bytes=4 * CHUNK) as cache:
        hot, data = content(CHUNK, seed=1)
        cache.put_whole(hot, data)
        for _ in range(20):
            cache.get(hot, 0, 1)
        for i in range(2, 10):
            clock.advance(5)
            cache.put_whole(*content(CHUNK, seed=i))
        assert cached(cache, hot)


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_max_age_drops_idle_chunks_only(tmp_path, policy):
    clock = FakeClock()
    with open_cache(tmp_path, clock, policy=policy, max_age_s=100, keep_heads_bytes=100) as cache:
        (a, da), (b, db), (p, dp) = content(CHUNK, 1), content(CHUNK, 2), content(CHUNK, 3)
        for key, data in ((a, da), (b, db), (p, dp)):
            cache.put_whole(key, data)
        cache.pin(p, CHUNK)
        clock.advance(60)
        cache.get(a, 200, 10)
        clock.advance(70)
        assert cache.enforce() == CHUNK  # b's chunk; its head stays
        assert cached(cache, a) and cached(cache, p) and not cached(cache, b)
        assert cache.get(b, 0, 100) == db[:100]  # heads are not aged out
        clock.advance(200)
        cache.open_handle(a)
        cache.enforce()
        assert cached(cache, a)


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_min_free_space_evicts_and_then_refuses(tmp_path, monkeypatch, policy):
    disk = 1_000_000
    monkeypatch.setattr(Evictor, "free_bytes", lambda self: disk - self.index.totals().bytes)
    clock = FakeClock()
    with open_cache(tmp_path, clock, policy=policy, min_free_bytes=disk - 5 * CHUNK) as cache:
        for i in range(8):
            clock.advance(1)
            cache.put_whole(*content(CHUNK, seed=i))
            assert cache.stats().bytes_cached <= 5 * CHUNK
        s = cache.stats()
        assert s.evictions == 3
        for key in [content(CHUNK, seed=i)[0] for i in range(3, 8)]:
            cache.pin(key, CHUNK)
        key, data = content(CHUNK, seed=20)
        with pytest.raises(CacheFullError, match="min_free_bytes"):
            cache.put_whole(key, data)
        s = cache.stats()
        assert s.full_errors == 1 and s.bytes_cached == 5 * CHUNK and s.chunks == 5
        assert cache.get(key, 0, 1) is None


def test_open_and_pinned_contents_are_never_evicted(tmp_path):
    clock = FakeClock()
    with open_cache(tmp_path, clock, max_bytes=4 * CHUNK) as cache:
        (a, da), (b, db) = content(CHUNK, 1), content(CHUNK, 2)
        cache.put_whole(a, da)
        cache.open_handle(a)
        cache.pin(b, CHUNK)
        cache.put_whole(b, db)
        for i in range(3, 12):
            clock.advance(1)
            cache.put_whole(*content(CHUNK, seed=i))
        assert cached(cache, a) and cached(cache, b)
        with pytest.raises(CacheError, match="open"):
            cache.evict(a)
        with pytest.raises(CacheError, match="pinned"):
            cache.evict(b)
        # another process (the CLI) sees the handle through the index
        with open_cache(tmp_path, clock, max_bytes=4 * CHUNK) as other:
            other.evict_all()
            assert other.stats().open_handles == 1
        assert cached(cache, a) and cached(cache, b)
        assert cache.stats().bytes_cached == 2 * CHUNK
        cache.close_handle(a)
        cache.unpin(b)
        assert cache.evict(a) == CHUNK
        assert cache.evict_all() == CHUNK
        assert cache.stats().bytes_cached == 0


def test_evict_all_also_removes_stray_files(tmp_path):
    with open_cache(tmp_path) as cache:
        (a, da), (b, db) = content(CHUNK, 1), content(100, 2)
        cache.put_whole(a, da)
        cache.put_whole(b, db)
        cache.pin(b, 100)
        stray = tmp_path / "cache" / "data" / "ab" / ("ab" + "0" * 62 + ".3")
        stray.parent.mkdir(exist_ok=True)
        stray.write_bytes(b"x" * 500)  # as a crash between an eviction's commit and unlink leaves it
        assert cache.evict_all() == CHUNK + 500
        assert not stray.exists() and cache.get(b, 0, 100) == db


def test_open_data_may_exceed_max_bytes_until_closed(tmp_path):
    with open_cache(tmp_path, max_bytes=2 * CHUNK) as cache:
        key, data = content(4 * CHUNK, seed=1)
        cache.open_handle(key)
        cache.put_whole(key, data)
        assert cache.get(key, 0, len(data)) == data
        cache.close_handle(key)
        assert cache.stats().bytes_cached <= 2 * CHUNK


def test_handles_reach_other_processes_and_end_with_the_cache(tmp_path):
    key, data = content(CHUNK, seed=1)
    with open_cache(tmp_path) as cache, open_cache(tmp_path) as cli:
        cache.put_whole(key, data)
        cache.open_handle(key)
        cache.open_handle(key)
        cache.close_handle(key)
        cache.close_handle(key)
        cache.close_handle(key)  # one close too many is ignored
        cache.open_handle(key)
        cache.stats()  # flushes, as happens within a second anyway
        assert cli.stats().open_handles == 1
        with pytest.raises(CacheError, match="open"):
            cli.evict(key)
        cache.close()  # a mount that stops closes its files
        assert cli.stats().open_handles == 0
        assert cli.evict(key) == CHUNK


def test_handles_of_dead_processes_are_ignored(tmp_path):
    key, data = content(CHUNK, seed=1)
    with open_cache(tmp_path) as cache:
        cache.put_whole(key, data)
    with open_cache(tmp_path) as cache:
        cache._index.add_handle(key, dead_pid(), 1)  # as a crashed mount would leave it
    with open_cache(tmp_path) as cache:
        assert cache.stats().open_handles == 0
        assert cache.evict(key) == CHUNK


def test_heads_are_kept_when_chunks_go_and_serve_header_reads(tmp_path):
    clock = FakeClock()
    with open_cache(tmp_path, clock, keep_heads_bytes=1000, max_bytes=6 * CHUNK) as cache:
        big, data = content(3 * CHUNK, seed=1)
        cache.put_whole(big, data)
        tiny, tdata = content(700, seed=2)
        cache.put_whole(tiny, tdata)
        s = cache.stats()
        assert (s.chunks, s.heads, s.bytes_cached) == (3, 2, 3 * CHUNK + 1000 + 700)  # tiny lives in its head
        for i in range(3, 9):
            clock.advance(1)
            cache.put_whole(*content(CHUNK, seed=i))
        assert cache.missing_chunks(big, len(data), 0, 3 * CHUNK) == [0, 1, 2]
        assert cache.get(big, 100, 900) == data[100:1000]
        assert cache.get(big, 100, 901) is None
        assert cache.get(tiny, 0, 1000) == tdata
        assert cache.is_cached(tiny)


def test_heads_beyond_their_share_go_first(tmp_path):
    clock = FakeClock()
    with open_cache(tmp_path, clock, keep_heads_bytes=CHUNK, max_bytes=8 * CHUNK) as cache:  # heads' share: 2 chunks
        big, bdata = content(4 * CHUNK + 1, seed=1)
        cache.put_whole(big, bdata)  # 4 chunks + a 64 KiB head
        tiny = []
        for i in range(10):
            clock.advance(1)
            key, data = content(20_000, seed=10 + i)  # all head
            cache.put_whole(key, data)
            tiny.append(key)
        clock.advance(1)
        cache.put_whole(*content(2 * CHUNK, seed=99))
        kept = [cached(cache, k) for k in tiny]
        assert kept[0] is False and kept[-1] is True  # the oldest heads went, by the policy
        assert cache.stats().bytes_cached <= 8 * CHUNK


def test_heads_go_last_when_nothing_else_may(tmp_path):
    clock = FakeClock()
    with open_cache(tmp_path, clock, keep_heads_bytes=CHUNK // 2, max_bytes=3 * CHUNK) as cache:
        heads = []
        for i in range(8):
            clock.advance(1)
            key, data = content(CHUNK // 2, seed=i)  # all head, no chunk
            cache.put_whole(key, data)
            heads.append(key)
        s = cache.stats()
        assert s.chunks == 0 and s.bytes_cached <= 3 * CHUNK
        assert not cached(cache, heads[0]) and cached(cache, heads[-1])


def test_another_process_evicting_is_noticed_at_the_next_flush(tmp_path):
    key, data = content(CHUNK, seed=1)
    with open_cache(tmp_path) as mount, open_cache(tmp_path) as cli:
        mount.put_whole(key, data)
        assert mount.is_cached(key)  # memoised
        assert cli.evict(key) == CHUNK
        assert mount.get(key, 0, 10) is None  # the file is gone: a miss, never stale bytes
        mount.put_whole(key, data)
        cli.evict_all()
        mount.stats()  # a flush, as happens every second
        assert not mount.is_cached(key)
