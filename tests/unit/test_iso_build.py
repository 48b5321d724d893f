"""build_disc_image: chunk hashes, rebuilds checked by them, extents, nothing left on failure."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue
from odarchive.iso.build import build_disc_image
from odarchive.iso.feeder import SourceChanged
from odarchive.iso.reader import DiscImage
from odarchive.plan.planner import plan
from odarchive.scan import scan_source

CHUNK = 65536


@pytest.fixture
def disc(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "big.bin").write_bytes(os.urandom(5 * CHUNK + 123))
    (src / "small.txt").write_bytes(b"small")
    cat = Catalogue.open(tmp_path / "catalogue.sqlite", create=True)
    cat.conn.execute("UPDATE meta SET value=? WHERE key='chunk_size'", (str(CHUNK),))
    scan_source(cat, src)
    [d] = plan(cat, 10_000_000)
    yield cat, d.disc_id, src, tmp_path / "isos"
    cat.close()


def test_build_records_chunks_and_extents_and_rebuilds_identically(disc) -> None:
    cat, disc_id, src, out = disc
    image = build_disc_image(cat, disc_id, out)
    big_id = cat.conn.execute("SELECT id FROM contents WHERE size > 1000").fetchone()[0]
    assert cat.conn.execute("SELECT count(*) FROM chunk_hashes WHERE content_id=?", (big_id,)).fetchone()[0] == 6
    (offset, length), = cat.conn.execute("SELECT image_offset, length FROM extents WHERE content_id=?", (big_id,))
    with open(image, "rb") as f:
        f.seek(offset)
        assert f.read(length) == (src / "big.bin").read_bytes()
    first = image.read_bytes()
    recorded = cat.conn.execute("SELECT image_sha256, image_size FROM discs WHERE id=?", (disc_id,)).fetchone()
    assert recorded == (hashlib.sha256(first).digest(), len(first))  # hashed while written
    again = build_disc_image(cat, disc_id, out)  # checked by the chunk hashes this time
    assert again == image and len(again.read_bytes()) == len(first)
    with DiscImage(image) as d:
        entry = d.catalogue()["odarchive"]["paths"]["DATA/src/big.bin"]
        assert entry["mtime_ns"] == os.stat(src / "big.bin").st_mtime_ns and entry["mode"] & 0o777


def test_a_rebuild_after_the_source_changed_fails_and_keeps_the_old_image(disc) -> None:
    cat, disc_id, src, out = disc
    image = build_disc_image(cat, disc_id, out)
    before = image.read_bytes()
    data = bytearray((src / "big.bin").read_bytes())
    data[3 * CHUNK + 5] ^= 0xFF
    (src / "big.bin").write_bytes(bytes(data))
    with pytest.raises(SourceChanged, match="big.bin.*chunk 3 differs"):
        build_disc_image(cat, disc_id, out)
    assert image.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [image.name]
