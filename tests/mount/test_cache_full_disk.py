"""The cache on a real full disk: a 2 MiB tmpfs mounted for the test (root), filled by the
cache and by another program; every put either makes room or fails cleanly, and the index
stays consistent."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from fuse_mount.cache import CacheFullError
from tests.lib.cachekit import FakeClock, content, open_cache


@pytest.fixture
def tiny_tmpfs(tmp_path):
    mnt = tmp_path / "tmpfs"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a tmpfs")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _on_disk(root) -> int:
    return sum(p.stat().st_size for p in (root / "data").rglob("*") if p.is_file())


def test_a_real_full_disk(tmp_path, tiny_tmpfs):
    clock = FakeClock()
    cfg = dict(dir=tiny_tmpfs / "cache", chunk_bytes=256 * 1024, trace=False)
    with open_cache(tmp_path, clock, **cfg) as cache:
        opened = []
        for i in range(12):  # 3 MiB through a 2 MiB disk (the index takes some too)
            clock.advance(1)
            key, data = content(256 * 1024, seed=i)
            assert cache.put_whole(key, data)
            assert cache.get(key, 0, len(data)) == data
        assert cache.stats().evictions > 0
        # another program fills the disk: the next put evicts to make room
        filler = tiny_tmpfs / "filler"
        filler.write_bytes(b"x" * (os.statvfs(tiny_tmpfs).f_bavail * os.statvfs(tiny_tmpfs).f_frsize - 4096))
        key, data = content(256 * 1024, seed=50)
        assert cache.put_whole(key, data)
        assert cache.get(key, 0, len(data)) == data
        filler.unlink()
        # everything cached is open: eventually nothing may go, and only that put fails
        with pytest.raises(CacheFullError):
            for i in range(20, 40):
                key, data = content(256 * 1024, seed=i)
                cache.open_handle(key)
                cache.put_whole(key, data)
                opened.append((key, data))
        for key, data in opened:
            assert cache.get(key, 0, len(data)) == data
        s = cache.stats()
        assert s.full_errors == 1 and s.bytes_cached == _on_disk(tiny_tmpfs / "cache")
    with open_cache(tmp_path, clock, **cfg) as cache:  # the index is consistent after all that
        assert cache.stats().bytes_cached == s.bytes_cached
