"""build_disc_image: chunk hashes, rebuilds checked by them, extents, nothing left on failure."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue, browse, chunks, images
from odarchive.catalogue import discs as disc_rows
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
    cat.set_meta("chunk_size", str(CHUNK))
    scan_source(cat, src)
    [d] = plan(cat, 10_000_000)
    yield cat, d.disc_id, src, tmp_path / "isos"
    cat.close()


def test_build_records_chunks_and_extents_and_rebuilds_identically(disc) -> None:
    cat, disc_id, src, out = disc
    image = build_disc_image(cat, disc_id, out)
    big_id = next(p[0] for p in images.placements(cat.conn, disc_id) if p[5] > 1000)
    assert len(chunks.of_content(cat.conn, big_id)) == 6
    ((_, _, _, _, ((offset, length),)),) = browse.placements(cat.conn, big_id)
    with open(image, "rb") as f:
        f.seek(offset)
        assert f.read(length) == (src / "big.bin").read_bytes()
    first = image.read_bytes()
    _, _, size, sha = disc_rows.image_record(cat.conn, disc_id)
    assert (sha, size) == (hashlib.sha256(first).digest(), len(first))  # hashed while written
    again = build_disc_image(cat, disc_id, out)  # checked by the chunk hashes this time
    assert again == image and len(again.read_bytes()) == len(first)
    with DiscImage(image) as d:
        assert d.read_bytes("/DATA/src/big.bin") == (src / "big.bin").read_bytes()
        assert ("/DATA/src/small.txt", 5) in set(d.files())
        entry = d.catalogue()["odarchive"]["paths"]["DATA/src/big.bin"]
        assert entry["mtime_ns"] == os.stat(src / "big.bin").st_mtime_ns and entry["mode"] & 0o777


def test_a_rebuild_after_the_source_changed_fails_and_keeps_the_old_image(disc) -> None:
    cat, disc_id, src, out = disc
    image = build_disc_image(cat, disc_id, out)
    before = image.read_bytes()
    data = bytearray((src / "big.bin").read_bytes())
    data[3 * CHUNK + 5] ^= 0xFF
    (src / "big.bin").write_bytes(bytes(data))
    with pytest.raises(SourceChanged, match=r"big\.bin.*chunk 3 differs"):
        build_disc_image(cat, disc_id, out)
    assert image.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [image.name]


def _disc_catalogue(tmp_path: Path, reserve: int) -> tuple[dict, Path]:
    from odarchive.plan.planner import PlanConfig

    src = tmp_path / "src"
    (src / "d" / "empty").mkdir(parents=True)
    (src / "d" / "a.txt").write_bytes(b"same")
    (src / "d" / "b.txt").write_bytes(b"same")
    os.symlink("a.txt", src / "d" / "link")
    with Catalogue.open(tmp_path / "catalogue.sqlite", create=True) as cat:
        scan_source(cat, src)
        [d] = plan(cat, 2_000_000, PlanConfig(reserve_bytes=reserve))
        image = build_disc_image(cat, d.disc_id, tmp_path / "isos")
        assert image.stat().st_size <= d.used_bytes
    with DiscImage(image) as img:
        return img.catalogue(), image


def test_catalogue_json_carries_tree_other_filenames_and_disc_map(tmp_path: Path) -> None:
    data, _ = _disc_catalogue(tmp_path, 0)
    head = data["odarchive"]
    tree = {(k, p): (t, mode) for k, p, mode, _mtime, t, _raw in head["tree"]}
    assert ("l", "src/d/link") in tree and tree[("l", "src/d/link")][0] == "a.txt"
    assert ("d", "src/d/empty") in tree and ("d", "src/d") in tree and ("d", "src") in tree
    assert head["tree_complete"] and head["disc_map_complete"] and head["other_filenames_complete"]
    assert head["other_filenames"] == {}  # the second name is on the disc itself: in `names`, not repeated
    [(other, entry)] = head["names"].items()
    assert other in ("DATA/src/d/a.txt", "DATA/src/d/b.txt") and data["files"][entry["sha256"]]["size"] == 4
    assert stat.S_ISREG(entry["mode"]) and entry["mtime_ns"] > 0
    assert sorted(e[0] for e in head["disc_map"]) == [0]


def test_a_tiny_reserve_keeps_catalogue_json_valid_and_the_image_within_its_plan(tmp_path: Path) -> None:
    data, _ = _disc_catalogue(tmp_path, 1)  # (the helper checks image size <= planned size)
    assert len(data["odarchive"]["paths"]) == 1
    for name in ("tree", "other_filenames", "disc_map"):
        assert name not in data["odarchive"] or isinstance(data["odarchive"][f"{name}_complete"], bool)


def test_optional_sections_and_the_closing_braces_fit_the_room_given(tmp_path: Path) -> None:
    """Every byte of catalogue.json after its required part counts against the room the
    build gives it: the sections and the closing braces (a disc 2,048 bytes over its plan
    when the sections filled the room to the byte, issue 11)."""
    from odarchive.iso.disc_files import load_layout
    from odarchive.iso.extras import optional_sections
    from odarchive.iso.manifest import catalogue_json_end, sections_room

    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    for i in range(40):
        (src / "d" / f"f{i:03d}").write_bytes(b"%d" % i)
    with Catalogue.open(tmp_path / "catalogue.sqlite", create=True) as cat:
        scan_source(cat, src)
        [d] = plan(cat, 2_000_000)
        layout = load_layout(cat, d.disc_id)
        for free in range(200, 1200):
            room = sections_room(free)
            sections = optional_sections(cat, layout, room)
            try:
                assert len("".join(catalogue_json_end(sections))) <= free, free
            finally:
                for section in sections:
                    section.close()
