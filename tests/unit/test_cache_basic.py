"""The cache's reads and writes: hits, misses, ranges over chunks, verification on put, reopen."""

from __future__ import annotations

import hashlib

import pytest

from fuse_mount.cache import Cache, CacheError
from tests.lib.cachekit import CHUNK, FakeClock, config, content, open_cache, put_chunks, sha


def test_miss_then_hit_after_put_whole(tmp_path):
    key, data = content(1000)
    with open_cache(tmp_path) as cache:
        assert cache.get(key, 0, 100) is None
        assert cache.put_whole(key, data)
        assert cache.get(key, 0, 100) == data[:100]
        assert cache.get(key, 900, 500) == data[900:]  # clamped to the size
        assert cache.get(key, 1000, 10) == b""
        s = cache.stats()
    assert (s.hits, s.misses) == (3, 1)
    assert s.bytes_served == 200
    assert s.hit_ratio == 0.75
    assert s.bytes_cached == 1000 and s.contents == 1 and s.chunks == 1


def test_ranges_across_chunks_need_every_chunk(tmp_path):
    key, data = content(3 * CHUNK + 17, seed=1)
    with open_cache(tmp_path) as cache:
        put_chunks(cache, key, data, [0, 2])
        assert cache.get(key, 10, 100) == data[10:110]
        assert cache.get(key, CHUNK - 5, 10) is None  # needs chunk 1
        assert cache.missing_chunks(key, len(data), CHUNK - 5, 2 * CHUNK + 10) == [1, 3]
        assert cache.missing_chunks(key, len(data), 0, 50) == []
        assert not cache.is_cached(key)
        put_chunks(cache, key, data, [1, 3])
        assert cache.is_cached(key)
        assert cache.get(key, CHUNK - 5, 2 * CHUNK + 30) == data[CHUNK - 5 : 3 * CHUNK + 25]
        assert cache.get(key, 0, len(data)) == data


def test_put_whole_of_a_large_content_is_stored_as_chunks(tmp_path):
    key, data = content(2 * CHUNK + 1, seed=2)
    with open_cache(tmp_path) as cache:
        assert cache.put_whole(key, data)
        assert cache.stats().chunks == 3
        assert cache.get(key, 2 * CHUNK - 1, 2) == data[2 * CHUNK - 1 :]
        assert (tmp_path / "cache" / "data" / key[:2] / f"{key}.2").stat().st_size == 1


def test_put_refuses_data_that_does_not_match_its_hash(tmp_path):
    key, data = content(5000, seed=3)
    bad = bytearray(data)
    bad[100] ^= 1
    with open_cache(tmp_path) as cache:
        assert not cache.put_whole(key, bytes(bad))
        assert cache.get(key, 0, 10) is None
        assert not cache.put_chunk(key, 5000, 0, bytes(bad), sha(data))
        assert cache.stats().bytes_cached == 0
        with pytest.raises(ValueError):
            cache.put_chunk(key, 5000, 0, data[:10], sha(data[:10]))
        assert cache.put_whole(key, data, sha256_expected=key.upper())


def test_peek_counts_nothing_and_empty_content_is_always_there(tmp_path):
    key, data = content(10, seed=4)
    empty = hashlib.sha256(b"").hexdigest()
    with open_cache(tmp_path) as cache:
        assert cache.peek(key, 0, 10) is None
        cache.put_whole(key, data)
        assert cache.peek(key, 0, 10) == data
        assert cache.get(empty, 0, 10) == b""
        assert cache.is_cached(empty)
        s = cache.stats()
    assert (s.hits, s.misses) == (1, 0)


def test_everything_persists_across_reopen(tmp_path):
    clock = FakeClock()
    key, data = content(CHUNK + 10, seed=5)
    other, small = content(300, seed=6)
    with open_cache(tmp_path, clock) as cache:
        cache.put_whole(key, data)
        cache.pin(other, 300)
        assert cache.get(key, 0, 10) == data[:10]
        assert cache.get(other, 0, 10) is None
        cache.record_wait(2.0)
        cache.record_wait(4.0)
        cache.record_disc_load(7)
    with open_cache(tmp_path, clock) as cache:
        assert cache.get(key, CHUNK, 10) == data[CHUNK:]
        assert cache.is_pinned(other)
        cache.put_whole(other, small)
        s = cache.stats()
    assert (s.hits, s.misses, s.disc_loads) == (2, 1, 1)
    assert s.mean_wait_s == 3.0 and s.max_wait_s == 4.0
    assert s.bytes_cached == CHUNK + 10 + 300
    assert s.pinned == 1


def test_a_different_chunk_size_drops_cached_data_but_keeps_counters(tmp_path):
    key, data = content(1000, seed=7)
    with open_cache(tmp_path) as cache:
        cache.put_whole(key, data)
        cache.get(key, 0, 1)
    with Cache.open(config(tmp_path, chunk_bytes=2 * CHUNK)) as cache:
        assert cache.get(key, 0, 1) is None
        s = cache.stats()
    assert s.bytes_cached == 0 and s.hits == 1
    assert not any((tmp_path / "cache" / "data").rglob(f"{key}*"))


def test_a_bad_policy_or_directory_is_a_clear_error(tmp_path):
    with pytest.raises(CacheError, match="unknown cache policy"):
        open_cache(tmp_path, policy="fifo")
    (tmp_path / "file").write_text("x")
    with pytest.raises(CacheError, match="cannot open the cache"):
        Cache.open(config(tmp_path, dir=tmp_path / "file" / "cache"))
    with pytest.raises(ValueError):
        config(tmp_path, max_bytes=-1)


def test_an_index_of_another_version_is_rebuilt_empty(tmp_path):
    import sqlite3

    key, data = content(1000, seed=8)
    with open_cache(tmp_path) as cache:
        cache.put_whole(key, data)
    conn = sqlite3.connect(tmp_path / "cache" / "index.sqlite")
    conn.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    with open_cache(tmp_path) as cache:
        assert cache.get(key, 0, 10) is None
        assert cache.stats().bytes_cached == 0
        assert not any((tmp_path / "cache" / "data").rglob(f"{key}*"))
        assert cache.put_whole(key, data) and cache.get(key, 0, 10) == data[:10]
