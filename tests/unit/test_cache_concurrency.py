"""Many threads at once, as FUSE workers and fetcher threads use the cache."""

from __future__ import annotations

import random
import threading

from tests.lib.cachekit import CHUNK, content, open_cache, put_chunks


def test_many_threads_put_get_evict_and_never_see_wrong_bytes(tmp_path):
    pool = [content(random.Random(i).choice([100, CHUNK // 2, CHUNK, 3 * CHUNK + 5]), seed=i) for i in range(40)]
    errors: list[BaseException] = []
    served = [0]
    lock = threading.Lock()
    with open_cache(tmp_path, max_bytes=12 * CHUNK, keep_heads_bytes=1024) as cache:

        def reader(seed: int) -> None:
            rng = random.Random(seed)
            try:
                for _ in range(40):
                    key, data = rng.choice(pool)
                    off = rng.randrange(len(data))
                    n = rng.randrange(1, 2 * CHUNK)
                    cache.open_handle(key)
                    try:
                        got = cache.get(key, off, n)
                        if got is None:
                            missing = cache.missing_chunks(key, len(data), off, n)
                            if rng.random() < 0.5:
                                assert cache.put_whole(key, data)
                            else:
                                put_chunks(cache, key, data, missing)
                            got = cache.peek(key, off, n)
                        assert got == data[off : off + n], "wrong bytes served"
                        with lock:
                            served[0] += 1
                    finally:
                        cache.close_handle(key)
                    if rng.random() < 0.02:
                        cache.evict_all()
                    if rng.random() < 0.05:
                        cache.stats()
            except BaseException as e:  # reported below, with the thread's failure
                errors.append(e)

        threads = [threading.Thread(target=reader, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors[:3]
        cache.enforce()
        s = cache.stats()
        on_disk = sum(p.stat().st_size for p in (tmp_path / "cache" / "data").rglob("*") if p.is_file())
    assert served[0] == 16 * 40
    assert s.hits + s.misses == 16 * 40
    assert s.bytes_cached == on_disk <= 12 * CHUNK
    assert s.open_handles == 0 and s.evictions > 0 and s.hits > 0


def test_cached_reads_do_not_wait_for_an_eviction_holding_the_index(tmp_path):
    key, data = content(CHUNK, seed=1)
    with open_cache(tmp_path) as cache:
        cache.put_whole(key, data)
        assert cache.get(key, 0, 10) == data[:10]  # memoised and verified
        got: list[bytes | None] = []
        cache._last_maintain = 0.0  # maintenance is due: a get leaves it for later
        with cache._db:  # as a long eviction would
            reader = threading.Thread(target=lambda: got.extend([cache.peek(key, 100, 10), cache.get(key, 5, 5)]))
            reader.start()
            reader.join(timeout=5)
            assert not reader.is_alive() and got == [data[100:110], data[5:10]]
        cache.get(key, 0, 1)
        assert cache._last_maintain > 0.0  # and does it once the index is free
