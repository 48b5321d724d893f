"""The mount conformance suite, in-process: `Vfs` over the real catalogue adapter and images."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lib.mount_archive import Archive, build_archive
from tests.lib.mount_conformance import ConformanceSuite, VfsClient, images_service


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return build_archive(tmp_path_factory.mktemp("archive"))


@pytest.fixture
def fs(archive: Archive, tmp_path: Path) -> Iterator[VfsClient]:
    service = images_service(archive, tmp_path / "cache")
    yield VfsClient(service)
    service.close()


class TestVfsConformance(ConformanceSuite):
    pass
