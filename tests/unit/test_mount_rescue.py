"""`RescuingSource.suspect`: bytes that failed verification are read from the disc's copy (or
its ECC) from then on; other bytes of the disc still come from the disc itself; with neither a
copy nor ECC the read raises CorruptData naming the disc."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fuse_mount.catalogue_view import Disc
from fuse_mount.errors import CorruptData
from fuse_mount.rescue import RescuingSource

DISC = Disc(7, "ODARCHIVE_0007", "disc7.iso", "verified", slot=1, copy_slots=(2,))


class Drives:
    """One drive; copy 0 reads wrong bytes (b"x"), copy 1 right ones (b"o")."""

    def __init__(self) -> None:
        self.copy: int | None = None
        self.reads: list[tuple[int | None, int]] = []

    def drive_count(self) -> int:
        return 1

    def loaded(self, drive: int) -> int | None:
        return DISC.id

    def load(self, drive: int, disc: Disc) -> None:
        self.copy = 0

    def load_copy(self, drive: int, disc: Disc, copy: int | None) -> None:
        self.copy = copy

    def read(self, drive: int, offset: int, length: int) -> bytes:
        self.reads.append((self.copy, offset))
        return (b"o" if self.copy else b"x") * length

    def release(self, drive: int) -> None: ...

    def status(self) -> dict[str, Any]:
        return {}

    def close(self) -> None: ...


class NoEcc:
    def repair(self, disc: Disc, read: Callable[[int, int], bytes]) -> Path | None:
        return None

    def close(self) -> None: ...


def test_suspect_bytes_come_from_the_copy_and_the_rest_from_the_disc() -> None:
    drives = Drives()
    source = RescuingSource(drives, NoEcc())
    source.load(0, DISC)
    source.suspect(DISC.id, [(4096, 2048)])
    assert source.read(0, 0, 4) == b"xxxx"  # not suspect: the disc itself
    assert source.read(0, 5000, 4) == b"oooo"  # inside the suspect range: its copy 1
    assert drives.reads == [(0, 0), (1, 5000)]


def test_with_no_copy_and_no_ecc_suspect_bytes_raise_corrupt_data() -> None:
    drives = Drives()
    source = RescuingSource(drives, NoEcc())
    alone = Disc(8, "ODARCHIVE_0008", "disc8.iso", "verified")
    source.load(0, alone)
    source.suspect(alone.id, [(0, 2048)])
    with pytest.raises(CorruptData, match="disc 8: bytes at 100 read wrong"):
        source.read(0, 100, 10)
    assert source.read(0, 4096, 2) == b"xx"  # the rest of the disc still reads


def test_read_into_fills_the_buffer_from_the_disc_or_its_copy() -> None:
    drives = Drives()
    source = RescuingSource(drives, NoEcc())
    source.load(0, DISC)
    source.suspect(DISC.id, [(4096, 2048)])
    buffer = bytearray(8)
    source.read_into(0, 0, memoryview(buffer)[:4])  # Drives has no read_into: a copy of its read
    source.read_into(0, 5000, memoryview(buffer)[4:])  # suspect: its copy 1
    assert bytes(buffer) == b"xxxxoooo"


def test_images_behind_the_rescuing_source_are_loaded_without_gathering(tmp_path: Path) -> None:
    """Opening an image costs nothing, so the fetcher gathers no requests before it (a robot
    gathers 0.05 s); the rescuing wrapper the mount puts around every source says what it wraps."""
    from fuse_mount.discs import ImageDirSource
    from fuse_mount.service import MountConfig

    images = RescuingSource(ImageDirSource(tmp_path), NoEcc())
    assert MountConfig().fetch_config(images).gather_s == 0.0
    assert MountConfig().fetch_config(RescuingSource(Drives(), NoEcc())).gather_s == 0.05
