"""The mount conformance suite, in-process: `Vfs` over the real catalogue adapter and images."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fuse_mount.cache import Cache, CacheConfig
from fuse_mount.discs import ImageDirSource
from fuse_mount.service import ArchiveService, MountConfig
from odarchive.app.mount_adapter import CatalogueAdapter
from tests.lib.mount_archive import CHUNK, Archive, build_archive
from tests.lib.mount_conformance import ConformanceSuite, VfsClient


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return build_archive(tmp_path_factory.mktemp("archive"))


@pytest.fixture
def fs(archive: Archive, tmp_path: Path) -> Iterator[VfsClient]:
    cache = Cache.open(CacheConfig(tmp_path / "cache", chunk_bytes=CHUNK, keep_heads_bytes=0, min_free_bytes=0))
    service = ArchiveService(
        CatalogueAdapter(archive.catalogue),
        ImageDirSource(archive.images, drives=2),
        cache,
        MountConfig(disc_timeout_s=10, gather_s=0.05, whole_max_bytes=2 * CHUNK),
    )
    yield VfsClient(service)
    service.close()


class TestVfsConformance(ConformanceSuite):
    pass
