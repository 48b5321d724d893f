"""`ImageDirSource.read_into`: direct (O_DIRECT) reads where offset, length and memory are
aligned, buffered ones for the rest; the bytes are the image's either way."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fuse_mount.buffers import ReadBuffers
from fuse_mount.catalogue_view import Disc
from fuse_mount.discs import ImageDirSource
from fuse_mount.errors import DiscUnavailable


def test_reads_into_buffers_give_the_image_bytes_aligned_or_not(tmp_path: Path) -> None:
    image = os.urandom(3 << 20)
    (tmp_path / "disc1.iso").write_bytes(image)
    source = ImageDirSource(tmp_path, drives=1)
    source.load(0, Disc(1, "ODARCHIVE_0001", "disc1.iso", "written"))
    buffer = memoryview(ReadBuffers().take(2 << 20))
    for offset, length, dest in [
        (0, 1 << 20, 0),  # all aligned: a direct read
        (2048, (16 << 10) + 100, 0),  # the last 100 bytes buffered
        (100, 5000, 0),  # offset not aligned
        (4096, 8192, 3),  # memory not aligned
        ((3 << 20) - 700, 700, 512),  # the image's last bytes
    ]:
        source.read_into(0, offset, buffer[dest : dest + length])
        assert bytes(buffer[dest : dest + length]) == image[offset : offset + length], (offset, length, dest)
    with pytest.raises(DiscUnavailable, match="too short"):
        source.read_into(0, (3 << 20) - 100, buffer[:512])
    source.close()
