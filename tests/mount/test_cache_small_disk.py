"""A cache on a disk too small for it: every read still succeeds, verified, straight from the
discs, and `odarchive mount` says at mount time which bounds that disk cannot meet."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from fuse_mount.cache import Cache, CacheConfig
from fuse_mount.discs import ImageDirSource
from fuse_mount.service import ArchiveService, MountConfig
from odarchive.app.mount_adapter import CatalogueAdapter
from tests.lib.mount_archive import CHUNK, Archive, build_archive
from tests.lib.mount_conformance import VfsClient, expected_tree
from tests.lib.mount_process import Mounted


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return build_archive(tmp_path_factory.mktemp("archive"))


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs: smaller than the default min_free_bytes and than the largest file."""
    disk = tmp_path / "small-disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _every_file(archive: Archive) -> Iterator[tuple[bytes, bytes]]:
    for path, st in sorted(expected_tree(archive.src).items()):
        if stat.S_ISREG(st.st_mode):
            yield b"/" + path, open(os.path.join(os.fsencode(archive.src.parent), path), "rb").read()


def test_a_cache_that_can_keep_nothing_still_serves_every_byte(
    archive: Archive, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = CacheConfig(tmp_path / "cache", chunk_bytes=CHUNK, keep_heads_bytes=0, min_free_bytes=1 << 60)
    service = ArchiveService(
        CatalogueAdapter(archive.catalogue),
        ImageDirSource(archive.images),
        Cache.open(config),
        MountConfig(disc_timeout_s=10, whole_max_bytes=2 * CHUNK),
    )
    fs = VfsClient(service)
    try:
        with caplog.at_level(logging.WARNING, logger="odarchive.mount"):
            for path, data in _every_file(archive):
                assert fs.read(path) == data, path
            big = (archive.src / "big.bin").read_bytes()
            for offset, size in ((CHUNK - 5, 10), (3 * CHUNK, 2 * CHUNK), (len(big) - 10, 100)):
                assert fs.read(b"/src/big.bin", offset, size) == big[offset : offset + size]
        assert service.cache.stats().bytes_cached == 0
        assert "served straight from the disc, not kept" in caplog.text
    finally:
        service.close()


def test_mount_on_a_small_disk_warns_and_reads_everything(
    archive: Archive, tmp_path: Path, small_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = ("--images", str(archive.images), "--cache-dir", str(small_disk / "cache"), "--disc-timeout", "20s")
    with Mounted(archive.home, tmp_path / "mnt", *flags) as m:  # the default min_free_bytes: 1 GiB
        assert "warning: the cache's disk" in capsys.readouterr().err
        for path, data in _every_file(archive):
            assert (m.mountpoint / os.fsdecode(path.lstrip(b"/"))).read_bytes() == data
    subprocess.run(["rm", "-rf", str(small_disk / "cache")], check=True)
    flags = (*flags[:3], str(small_disk / "cache2"), *flags[4:], "--cache-min-free", "0")
    with Mounted(archive.home, tmp_path / "mnt", *flags) as m:  # room, but not for big.bin
        for path, data in _every_file(archive):
            assert (m.mountpoint / os.fsdecode(path.lstrip(b"/"))).read_bytes() == data, path
        assert (m.mountpoint / "src" / "big.bin").read_bytes() == (archive.src / "big.bin").read_bytes()
    assert "served straight from the disc" in (archive.home / "logs" / "mount.log").read_text()
