"""Our image writer against the size model and against pycdlib, on random layouts.

The writer lays out exactly the blocks the planner's model counts (and pycdlib 1.22.0 would
use), and pycdlib reads every file back from every view (UDF, ISO 9660, Joliet) with its
bytes. The readers that are not ours (7zz, isoinfo, xorriso) read real archives in
tests/integration/test_iso_property.py.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from odarchive.iso import sizing
from odarchive.iso.blocks import ImageBlocks
from odarchive.iso.layout import MANIFEST_FILES, FileNode
from odarchive.iso.outfile import ImageSink
from odarchive.iso.sizing import MANIFEST_ISO
from odarchive.iso.writer import write_image
from tests.lib.image_readers import pycdlib_views
from tests.lib.iso_helpers import pycdlib_blocks, random_layout


def _content(key: str, size: int) -> bytes:
    seed = hashlib.sha256(key.encode()).digest()
    return (seed * (size // 32 + 1))[:size]


@pytest.mark.parametrize("seed", range(8))
def test_writer_matches_the_model_and_pycdlib_reads_every_view(tmp_path: Path, seed: int) -> None:
    layout = random_layout(seed)
    blocks = ImageBlocks(layout)
    assert blocks.total_blocks == sizing.image_blocks(layout) == pycdlib_blocks(layout)[0]
    texts = {n: _content(n, layout.manifest[n]) for n in MANIFEST_FILES}
    image = tmp_path / "image.iso"
    sink = ImageSink(image)
    write_image(
        blocks,
        sink,
        "TEST_0001",
        {n: [t] for n, t in texts.items()},
        lambda f: io.BytesIO(_content(f.udf, f.size)),
    )
    sink.close()
    raw = image.read_bytes()
    assert len(raw) == blocks.total_blocks * sizing.BLOCK
    assert sink.sha256 == hashlib.sha256(raw).digest()
    want: dict[str, dict[str, str]] = {"udf": {}, "iso": {}, "joliet": {}}
    for name in MANIFEST_FILES:
        h = hashlib.sha256(texts[name]).hexdigest()
        want["udf"][name] = want["joliet"][name] = h
        want["iso"][MANIFEST_ISO[name]] = h
    for f, udf, jol, iso in layout.files():
        h = hashlib.sha256(_content(f.udf, f.size)).hexdigest()
        want["udf"][udf[1:]], want["joliet"][jol[1:]], want["iso"][iso[1:]] = h, h, h
        assert [off for off, _ in blocks.extents(f)] == ([f.block * sizing.BLOCK] if f.size else [0])
    assert pycdlib_views(image) == want


def test_a_source_that_ends_early_stops_the_image(tmp_path: Path) -> None:
    layout = random_layout(1)
    blocks = ImageBlocks(layout)

    def short(f: FileNode) -> io.BytesIO:
        return io.BytesIO(b"x" * (f.size // 2))

    sink = ImageSink(tmp_path / "image.iso")
    with pytest.raises(ValueError, match="short read"):
        write_image(
            blocks,
            sink,
            "T",
            {n: [bytes(layout.manifest[n])] for n in MANIFEST_FILES},
            short,
        )
    sink.abandon()
    assert sink.sha256 is None
