"""Never serve corrupt data; a full cache disk evicts, retries, then fails only that put."""

from __future__ import annotations

import errno
import hashlib
import os

import pytest

from fuse_mount.cache import CacheFullError
from fuse_mount.cache import store as store_module
from tests.lib.cachekit import CHUNK, FakeClock, content, open_cache, put_chunks

MiB = 1024 * 1024


def data_file(tmp_path, key, idx):
    return tmp_path / "cache" / "data" / key[:2] / f"{key}.{'head' if idx < 0 else idx}"


def flip_byte(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0xFF]))


def test_altered_bytes_are_detected_dropped_and_fetched_again(tmp_path):
    key, data = content(3 * CHUNK, seed=1)
    with open_cache(tmp_path) as cache:
        cache.put_whole(key, data)
    flip_byte(data_file(tmp_path, key, 1), 1234)
    with open_cache(tmp_path) as cache:
        assert cache.get(key, 0, 100) == data[:100]  # chunk 0 is fine
        assert cache.get(key, CHUNK, 10) is None  # chunk 1 is not: a miss, never the bad bytes
        assert cache.missing_chunks(key, len(data), 0, len(data)) == [1]
        assert not data_file(tmp_path, key, 1).exists()
        put_chunks(cache, key, data, [1])  # fetched again
        assert cache.get(key, 0, len(data)) == data
        s = cache.stats()
    assert s.corrupt_drops == 1 and s.misses == 1 and s.bytes_cached == 3 * CHUNK


def test_alteration_after_a_verified_read_is_still_caught(tmp_path):
    key, data = content(2 * MiB, seed=2)
    with open_cache(tmp_path, chunk_bytes=4 * MiB) as cache:
        cache.put_whole(key, data)
        assert cache.get(key, MiB + 5, 100) == data[MiB + 5 : MiB + 105]
        path = data_file(tmp_path, key, 0)
        st = path.stat()
        flip_byte(path, MiB + 50)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # even if mtime looks old, ctime moved
        assert cache.get(key, MiB + 5, 100) is None
        assert cache.get(key, 0, 10) is None  # the whole chunk file was dropped
        assert cache.stats().corrupt_drops == 1


def test_check_finds_corruption_the_memo_would_not(tmp_path):
    (a, da), (b, db), (c, dc) = content(3 * CHUNK, seed=11), content(CHUNK, seed=12), content(500, seed=13)
    with open_cache(tmp_path, keep_heads_bytes=1000) as cache:
        for key, data in ((a, da), (b, db), (c, dc)):
            cache.put_whole(key, data)
        path = data_file(tmp_path, a, 2)
        st = path.stat()
        flip_byte(path, 100)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # bit rot leaves no mtime change
        data_file(tmp_path, b, 0).unlink()
        seen = []
        assert cache.check(seen.append) == (7, 1, 1)  # a: 3 chunks + head, b: chunk + head, c: head
        assert sum(seen) == 3 * CHUNK + 1000 + CHUNK + 1000 + 500
        assert cache.missing_chunks(a, len(da), 0, len(da)) == [2]
        assert not cache.is_cached(b) and cache.get(c, 0, 500) == dc
        assert cache.stats().corrupt_drops == 1
        assert cache.check() == (5, 0, 0)


def test_truncated_or_missing_files_are_misses(tmp_path):
    (a, da), (b, db) = content(CHUNK, seed=3), content(CHUNK, seed=4)
    with open_cache(tmp_path) as cache:
        cache.put_whole(a, da)
        cache.put_whole(b, db)
    os.truncate(data_file(tmp_path, a, 0), 100)
    data_file(tmp_path, b, 0).unlink()  # e.g. removed by hand
    with open_cache(tmp_path) as cache:
        assert cache.get(a, 0, 10) is None
        assert cache.get(b, 0, 10) is None
        s = cache.stats()
        assert s.corrupt_drops == 1 and s.bytes_cached == 0 and s.contents == 0


def test_opening_the_cache_removes_only_dead_writers_files(tmp_path):
    with open_cache(tmp_path) as mount:
        tmp = tmp_path / "cache" / "tmp"
        mine = tmp / f"{os.getpid()}-inflight"
        mine.write_bytes(b"being written by a running mount")
        dead = 999_999_999  # above any pid_max: not a live process
        (tmp / f"{dead}-old").write_bytes(b"left by a crash")
        (tmp / "junk").write_bytes(b"?")
        with open_cache(tmp_path):  # e.g. `odarchive cache stats` while mounted
            pass
        assert [p.name for p in tmp.iterdir()] == [mine.name]
        assert mount.stats().bytes_cached == 0


def test_heads_are_verified_too(tmp_path):
    key, data = content(CHUNK, seed=5)
    with open_cache(tmp_path, keep_heads_bytes=500) as cache:
        cache.put_whole(key, data)
    flip_byte(data_file(tmp_path, key, -1), 10)
    with open_cache(tmp_path, keep_heads_bytes=500) as cache:
        assert cache.get(key, 0, 100) is None
        assert cache.stats().corrupt_drops == 1


def _fail_writes(monkeypatch, times: int):
    """The next `times` writes of chunk files fail with ENOSPC."""
    real = store_module._write_all
    left = [times]

    def write(fd, data, hashed=False):
        if left[0] > 0:
            left[0] -= 1
            os.write(fd, bytes(data[:10]))  # a partial file is left behind by the failure
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data, hashed)

    monkeypatch.setattr(store_module, "_write_all", write)


def test_enospc_evicts_then_retries(tmp_path, monkeypatch):
    clock = FakeClock()
    with open_cache(tmp_path, clock) as cache:
        old = [content(CHUNK, seed=i) for i in range(6)]
        for key, data in old:
            clock.advance(1)
            cache.put_whole(key, data)
        _fail_writes(monkeypatch, 1)
        key, data = content(CHUNK, seed=10)
        assert cache.put_whole(key, data)
        assert cache.get(key, 0, len(data)) == data
        assert [cache.is_cached(k) for k, _ in old] == [False] * 5 + [True]  # by the policy (lru)
        s = cache.stats()
        assert s.evictions == 5 and s.full_errors == 0  # 64 KiB + 256 KiB headroom
        assert list((tmp_path / "cache" / "tmp").iterdir()) == []


def test_enospc_that_eviction_cannot_cure_fails_that_put_only(tmp_path, monkeypatch):
    with open_cache(tmp_path) as cache:
        kept, kdata = content(CHUNK, seed=1)
        cache.put_whole(kept, kdata)
        cache.open_handle(kept)
        _fail_writes(monkeypatch, 2)
        key, data = content(2 * CHUNK, seed=2)
        with pytest.raises(CacheFullError, match="cache disk is full"):
            cache.put_whole(key, data)
        s = cache.stats()
        assert s.full_errors == 1 and s.bytes_cached == CHUNK and s.chunks == 1
        assert cache.get(key, 0, 1) is None and cache.get(kept, 0, CHUNK) == kdata
        assert list((tmp_path / "cache" / "tmp").iterdir()) == []
        assert cache.put_whole(key, data)  # the disk has room again
        assert cache.get(key, 0, len(data)) == data


def test_a_chunk_verified_by_its_catalogue_hash_keeps_that_one_digest_and_is_still_checked_whole(tmp_path):
    """A chunk put with the catalogue's chunk hash is not hashed a second time block by block:
    the index keeps that one digest, and after a restart (nothing remembered as verified) a
    read of any part hashes the whole file, so a flipped byte in another block is still caught."""
    key, data = content(3 * MiB, seed=21)
    with open_cache(tmp_path, chunk_bytes=4 * MiB) as cache:
        put_chunks(cache, key, data)
        assert cache.get(key, 0, 10) == data[:10]
        found = cache._index.content_map(key)
        assert found is not None
        [row] = [r for r in found.rows.values() if r.idx == 0]
        assert row.hashes == hashlib.sha256(data).digest()  # one digest, not three
    flip_byte(data_file(tmp_path, key, 0), 2 * MiB + 7)
    with open_cache(tmp_path, chunk_bytes=4 * MiB) as cache:
        assert cache.get(key, 10, 100) is None  # block 0 is intact, the file is not: a miss
        assert not data_file(tmp_path, key, 0).exists()
        assert cache.stats().corrupt_drops == 1


def test_a_chunk_hashed_as_it_is_written_is_stored_only_if_it_matches(tmp_path, monkeypatch):
    """put_chunk hashes a chunk while writing it: bytes that do not match leave no file, no head
    and no index row; on a disk too full for them the answer is still False (CacheFullError
    only for bytes that match)."""
    key, data = content(3 * MiB, seed=22)
    bad = bytearray(data)
    bad[2 * MiB + 5] ^= 1
    want = hashlib.sha256(data).hexdigest()
    with open_cache(tmp_path, chunk_bytes=4 * MiB, keep_heads_bytes=4096) as cache:
        assert not cache.put_chunk(key, len(data), 0, bytes(bad), want)
        s = cache.stats()
        assert (s.bytes_cached, s.chunks, s.heads) == (0, 0, 0)
        assert list((tmp_path / "cache" / "tmp").iterdir()) == []
        _fail_writes(monkeypatch, 2)
        assert not cache.put_chunk(key, len(data), 0, bytes(bad), want)
        _fail_writes(monkeypatch, 2)
        with pytest.raises(CacheFullError):
            cache.put_chunk(key, len(data), 0, data, want)
        assert list((tmp_path / "cache" / "tmp").iterdir()) == []
        assert cache.put_chunk(key, len(data), 0, data, want)
        assert cache.get(key, 0, len(data)) == data and cache.stats().heads == 1
