"""Large discs: a sparse file over 4 GiB (multi-extent), 100,000 files in one directory."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue, chunks, images
from odarchive.iso.build import build_disc_image
from odarchive.iso.disc_files import disc_info, load_layout
from odarchive.iso.layout import MANIFEST_FILES
from odarchive.iso.manifest import required_sizes
from odarchive.plan.planner import PlanConfig, plan, reserve_for
from odarchive.scan import scan_source
from tests.lib.trees import placements_of

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not shutil.which("7zz"), reason="7zz missing")]


def test_a_file_over_4_gib_becomes_a_multi_extent_file(tmp_path: Path) -> None:
    size = 4 * 2**30 + 3 * 2**20 + 5
    src = tmp_path / "src"
    src.mkdir()
    head = b"odarchive-head"
    with open(src / "huge.bin", "wb") as f:
        f.write(head)
        f.truncate(size)
    with Catalogue.open(tmp_path / "catalogue.sqlite", create=True) as cat:
        scan_source(cat, src)
        [disc] = plan(cat, 5 * 2**30)
        image = build_disc_image(cat, disc.disc_id, tmp_path / "isos")
        ((_, _, _, _, extents),) = placements_of(cat, b"src/huge.bin")
        assert sum(n for _, n in extents) == size
        ((cid, *_),) = images.placements(cat.conn, disc.disc_id)
        assert len(chunks.of_content(cat.conn, cid)) == -(-size // cat.chunk_size)
    (src / "huge.bin").unlink()
    listing = subprocess.run(["isoinfo", "-l", "-i", str(image)], capture_output=True, text=True, check=True).stdout
    assert listing.count("HUGE.BIN;1") == 2  # two ISO 9660 extents of one file
    listing = subprocess.run(["7zz", "l", "-tudf", str(image)], capture_output=True, text=True, check=True).stdout
    assert f" {size} " in listing and "DATA/src/huge.bin" in listing
    head_bytes = subprocess.run(
        f"7zz x -so -tudf {image} DATA/src/huge.bin | head -c {len(head)}", shell=True, capture_output=True
    ).stdout
    assert head_bytes == head
    with open(image, "rb") as f:  # the recorded extents hold the file: its head, and zeros after
        f.seek(extents[0][0])
        assert f.read(len(head)) == head
    assert os.stat(image).st_blocks * 512 < 64 * 2**20  # the zeros became holes
    image.unlink()


def test_100000_files_in_one_directory(tmp_path: Path) -> None:
    src = tmp_path / "src" / "flat"
    src.mkdir(parents=True)
    dir_fd = os.open(src, os.O_RDONLY)
    try:
        for i in range(100_000):
            fd = os.open(f"file_{i:06d}.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=dir_fd)
            os.write(fd, b"%d\n" % i)
            os.close(fd)
    finally:
        os.close(dir_fd)
    with Catalogue.open(tmp_path / "catalogue.sqlite", create=True) as cat:
        scan_source(cat, tmp_path / "src")
        [disc] = plan(cat, 737_280_000)
        image = build_disc_image(cat, disc.disc_id, tmp_path / "isos")
        planned = _planned_manifest_sizes(cat, disc.disc_id, disc.capacity_bytes)
    assert image.stat().st_size <= disc.used_bytes, (
        f"image {image.stat().st_size} bytes, planned {disc.used_bytes}; manifest files planned (with"
        f" catalogue.json's reserve) {planned}, written {_manifest_sizes(image)}"
    )
    listing = subprocess.run(["7zz", "l", "-tudf", str(image)], capture_output=True, text=True, check=True).stdout
    assert "100003 files" in listing  # + README.md, catalogue.json, SHA256SUMS


def _planned_manifest_sizes(cat: Catalogue, disc_id: int, capacity: int) -> dict[str, int]:
    layout = load_layout(cat, disc_id)
    return required_sizes(layout, disc_info(cat, disc_id, PlanConfig().label), reserve_for(capacity, PlanConfig()))


def _manifest_sizes(image: Path) -> dict[str, int]:
    """The sizes of the manifest files in the image's UDF view (7-Zip's listing)."""
    out = subprocess.run(
        ["7zz", "l", "-slt", "-tudf", str(image), *MANIFEST_FILES], capture_output=True, text=True, check=True
    ).stdout
    fields = re.findall(r"^Path = (.*)\n(?:Folder = .*\n)?Size = (\d+)$", out, re.M)
    return {path: int(size) for path, size in fields}
