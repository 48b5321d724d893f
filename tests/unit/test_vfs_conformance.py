"""The mount conformance suite, in-process: `Vfs` over the real catalogue adapter and images."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from fuse_mount.discs import ImageDirSource
from fuse_mount.service import ArchiveService, MountConfig
from odarchive.cli.mount_adapter import CatalogueAdapter
from tests.lib.mount_archive import CHUNK, Archive, build_archive
from tests.lib.mount_conformance import ConformanceSuite, VfsClient
from tests.lib.mount_fakes import MemoryCache


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return build_archive(tmp_path_factory.mktemp("archive"))


@pytest.fixture
def fs(archive: Archive) -> Iterator[VfsClient]:
    service = ArchiveService(
        CatalogueAdapter(archive.catalogue), ImageDirSource(archive.images, drives=2), MemoryCache(CHUNK),  # type: ignore[arg-type]
        MountConfig(disc_timeout_s=10, gather_s=0.05, whole_max_bytes=2 * CHUNK),
    )
    yield VfsClient(service)
    service.fetcher.close()


class TestVfsConformance(ConformanceSuite):
    pass
