"""The mount conformance suite through a real kernel mount started by `odarchive mount`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lib.mount_archive import Archive, build_archive
from tests.lib.mount_conformance import ConformanceSuite
from tests.lib.mount_process import Mounted, PosixClient


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    a = build_archive(tmp_path_factory.mktemp("archive"))
    (a.home / "odarchive.toml").write_text("[mount]\ngather_s = 0.1\n")
    return a


@pytest.fixture
def fs(archive: Archive, tmp_path: Path) -> Iterator[PosixClient]:
    with Mounted(
        archive.home,
        tmp_path / "mnt",
        "--images",
        str(archive.images),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--disc-timeout",
        "20s",
    ) as m:
        yield PosixClient(m)


class TestMountConformance(ConformanceSuite):
    pass
