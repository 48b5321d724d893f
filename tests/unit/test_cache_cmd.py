"""`odarchive cache stats|evict|pin|replay`, in-process against a real catalogue and cache."""

from __future__ import annotations

import os

import pytest

from fuse_mount.cache import Cache, CacheConfig

STATS_KEYS = {
    "hits",
    "misses",
    "hit_ratio",
    "bytes_served",
    "bytes_cached",
    "evictions",
    "disc_loads",
    "mean_wait_s",
    "max_wait_s",
}


@pytest.fixture
def archive(home, cli, tmp_path):
    """A catalogued source `photos` with two files; returns {name: bytes}."""
    src = tmp_path / "photos"
    (src / "2019").mkdir(parents=True)
    files = {"2019/a.jpg": os.urandom(5000), "b.txt": b"hello world\n"}
    for name, data in files.items():
        (src / name).write_bytes(data)
    r = cli("create_db", str(src), "--json")
    assert r.code == 0, r.err
    return files


def cache_of(home) -> Cache:
    return Cache.open(CacheConfig(dir=home / "cache", min_free_bytes=0))


def sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_stats_json_has_the_documented_keys(cli, home):
    r = cli("cache", "stats", "--json")
    assert r.code == 0, r.err
    s = r.json()
    assert set(s) >= STATS_KEYS
    assert (s["hits"], s["bytes_cached"], s["max_bytes"], s["policy"]) == (0, 0, 10 * 1024**3, "lru")
    assert (home / "cache" / "index.sqlite").exists()
    r = cli("cache", "stats")
    assert r.code == 0 and "hit ratio" in r.out


def test_stats_after_reads_and_settings_from_the_config_file(cli, home):
    (home / "odarchive.toml").write_text('[cache]\nmax_bytes = "1MiB"\npolicy = "size"\nmax_age_s = "2d"\n')
    with cache_of(home) as cache:
        data = b"x" * 3000
        cache.put_whole(sha(data), data)
        cache.get(sha(data), 0, 1000)
        cache.get(sha(b"other"), 0, 10)
        cache.record_wait(1.5)
        cache.record_disc_load(3)
    s = cli("cache", "stats", "--json").json()
    assert (s["hits"], s["misses"], s["hit_ratio"], s["bytes_served"]) == (1, 1, 0.5, 1000)
    assert (s["bytes_cached"], s["disc_loads"], s["mean_wait_s"], s["max_wait_s"]) == (3000, 1, 1.5, 1.5)
    assert (s["max_bytes"], s["policy"]) == (1024 * 1024, "size")


def test_cache_dir_from_the_file_is_under_the_home_and_from_a_flag_under_the_cwd(home, tmp_path, monkeypatch):
    from odarchive.app.context import Context
    from odarchive.app.mount_config import cache_config
    from odarchive.config import load_settings
    from odarchive.home import Home

    (home / "odarchive.toml").write_text('[cache]\ndir = "fast/cache"\nmax_bytes = "2G"\n')
    ctx = Context(Home(home), load_settings(home / "odarchive.toml"), False)
    assert cache_config(ctx).dir == home / "fast" / "cache"
    monkeypatch.chdir(tmp_path)
    conf = cache_config(ctx, dir="here", max_bytes="1MiB", max_age_s="1h", keep_heads_bytes=None)
    assert (conf.dir, conf.max_bytes, conf.max_age_s, conf.keep_heads_bytes) == (
        tmp_path / "here",
        1 << 20,
        3600.0,
        65536,
    )


def test_bad_cache_settings_are_clear_errors(cli, home):
    (home / "odarchive.toml").write_text('[cache]\npolicy = "fifo"\n')
    r = cli("cache", "stats", "--json")
    assert r.code == 7 and "fifo" in r.err
    (home / "odarchive.toml").write_text('[cache]\nmax_bytes = "lots"\n')
    assert cli("cache", "stats").code == 3
    (home / "odarchive.toml").write_text("[cache]\nsize = 5\n")
    assert cli("cache", "stats").code == 3


def test_chunk_bytes_follow_the_catalogue(cli, home, archive):
    assert cli("cache", "stats").code == 0
    with cache_of(home) as cache:  # CacheConfig's default is the catalogue's default
        assert cache.config.chunk_bytes == 16 * 1024 * 1024
    (home / "odarchive.toml").write_text('[cache]\nchunk_bytes = "1M"\n')
    r = cli("cache", "stats")
    assert r.code == 3 and "chunk size" in r.err


def test_pin_and_evict_by_archived_path(cli, home, archive):
    data = archive["2019/a.jpg"]
    r = cli("cache", "pin", "photos/2019/a.jpg", "--json")
    assert r.code == 0, r.err
    assert r.json() == {"path": "photos/2019/a.jpg", "sha256": sha(data), "size": 5000, "pinned": True, "cached": False}
    with cache_of(home) as cache:
        cache.put_whole(sha(data), data)
        cache.put_whole(sha(archive["b.txt"]), archive["b.txt"])
    r = cli("cache", "evict", "photos/2019/a.jpg")
    assert r.code == 7 and "pinned" in r.err
    assert cli("cache", "evict", "--all", "--json").json()["bytes_freed"] == len(archive["b.txt"])
    assert cli("cache", "pin", "--remove", "photos/2019/a.jpg").code == 0
    r = cli("cache", "evict", "photos/2019/a.jpg", "--json")
    assert r.code == 0 and r.json()["bytes_freed"] == 5000
    assert cli("cache", "stats", "--json").json()["bytes_cached"] == 0


def test_paths_of_earlier_snapshots_and_bad_paths(cli, home, archive, tmp_path):
    r = cli("cache", "pin", "photos/b.txt", "--json")
    assert r.code == 0 and r.json()["sha256"] == sha(b"hello world\n")
    (tmp_path / "photos" / "b.txt").write_bytes(b"changed\n")
    assert cli("create_db", str(tmp_path / "photos")).code == 0
    assert cli("cache", "pin", "photos/b.txt", "--json").json()["sha256"] == sha(b"changed\n")
    with_first = cli("cache", "pin", ".snapshots/1/photos/b.txt", "--json")
    assert with_first.code == 0, with_first.err
    assert with_first.json()["sha256"] == sha(b"hello world\n")
    assert cli("cache", "pin", "photos/missing.jpg").code == 3
    assert cli("cache", "pin", "photos/2019").code == 3
    assert cli("cache", "evict").code == 2
    assert cli("cache", "evict", "photos/b.txt", "--all").code == 2


def test_a_path_under_a_mount_is_identified_by_its_xattr(cli, home, tmp_path):
    f = tmp_path / "mnt" / "c.bin"
    f.parent.mkdir()
    f.write_bytes(b"abc")
    try:
        os.setxattr(f, "user.odarchive.sha256", sha(b"abc").encode())
    except OSError:
        pytest.skip("no user xattrs on this file system")
    r = cli("cache", "pin", str(f), "--json")
    assert r.code == 0 and r.json()["sha256"] == sha(b"abc") and r.json()["size"] == 3
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert cli("cache", "pin", str(plain)).code == 3


def test_check_reports_and_drops_corrupt_data(cli, home):
    data = os.urandom(5000)
    with cache_of(home) as cache:
        cache.put_whole(sha(data), data)
    r = cli("cache", "check", "--json")
    assert r.code == 0 and r.json() == {"checked": 1, "corrupt": 0, "missing": 0}  # small: all in its head
    head = home / "cache" / "data" / sha(data)[:2] / f"{sha(data)}.head"
    head.write_bytes(b"x" * 5000)
    r = cli("cache", "check", "--json")
    assert r.code == 1 and r.json() == {"checked": 1, "corrupt": 1, "missing": 0}
    assert cli("cache", "check").code == 0


def test_replay_the_recorded_trace(cli, home):
    with cache_of(home) as cache:
        for _ in range(3):
            for i in range(5):  # a cycle over 5 contents: 2k holds two, so LRU never hits
                data = bytes([i]) * 1000
                if cache.get(sha(data), 0, 1000, size=1000) is None:
                    cache.put_whole(sha(data), data)
    r = cli("cache", "replay", "--sizes", "2KiB,1MiB", "--json")
    assert r.code == 0, r.err
    out = r.json()
    assert out["accesses"] == 15
    best = out["results"][0]
    assert best["max_bytes"] == 1024 * 1024 and best["hits"] == 10 and best["misses"] == 5
    small_lru = [x for x in out["results"] if x["max_bytes"] == 2048 and x["policy"] == "lru"]
    assert small_lru[0]["hits"] == 0
    assert cli("cache", "replay", "--policies", "fifo").code == 2
