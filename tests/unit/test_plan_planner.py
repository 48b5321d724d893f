"""The planner: exact fill, incremental planning, pieces, written discs kept, bad sizes."""

from __future__ import annotations

import itertools
import os
import random
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue, browse, burns, contents, images, plans
from odarchive.catalogue import discs as disc_rows
from odarchive.errors import DiscError, UsageError
from odarchive.iso import sizing
from odarchive.iso.disc_files import disc_info, load_layout
from odarchive.iso.manifest import required_sizes
from odarchive.plan.media import parse_size
from odarchive.plan.planner import PlanConfig, plan, reserve_for
from odarchive.scan import scan_source

MB = 1_000_000


def _sparse_tree(root: Path, sizes: list[int], seed: int = 0) -> None:
    rng = random.Random(seed)
    for i, size in enumerate(sizes):
        d = root / f"dir{i // 7}"
        d.mkdir(parents=True, exist_ok=True)
        with open(d / f"file{i:03d}.bin", "wb") as f:
            f.write(rng.randbytes(16))
            f.truncate(size)


@pytest.fixture
def cat(tmp_path: Path):
    c = Catalogue.open(tmp_path / "catalogue.sqlite", create=True)
    yield c
    c.close()


def test_parse_size_media_and_suffixes() -> None:
    assert parse_size("bd") == parse_size("bluray") == 12_219_392 * 2048
    assert parse_size("cd") == 360_000 * 2048
    assert parse_size("700M") == 700 * MB and parse_size("25G") == 25 * 10**9 and parse_size("1234") == 1234
    with pytest.raises(UsageError):
        parse_size("floppy")


def test_discs_are_filled_to_99_percent_and_never_over(cat: Catalogue, tmp_path: Path) -> None:
    rng = random.Random(1)
    _sparse_tree(tmp_path / "src", [rng.randint(10_000, 3 * MB) for _ in range(120)])
    scan_source(cat, tmp_path / "src")
    capacity = 40 * MB
    discs = plan(cat, capacity)
    assert len(discs) >= 3
    for d in discs:
        assert d.used_bytes <= capacity
        layout = load_layout(cat, d.disc_id)
        layout.set_manifest_sizes(
            required_sizes(layout, disc_info(cat, d.disc_id, "ODARCHIVE"), reserve_for(capacity, PlanConfig()))
        )
        assert sizing.image_bytes(layout) == d.used_bytes  # what create_iso will lay out
    for d in discs[:-1]:
        assert d.used_bytes >= 0.99 * capacity, d
    assert plans.unplaced_contents(cat.conn) == [] and contents.count(cat.conn) > 0


def test_planning_is_incremental(cat: Catalogue, tmp_path: Path) -> None:
    src = tmp_path / "src"
    _sparse_tree(src, [100_000] * 10)
    scan_source(cat, src)
    first = plan(cat, 40 * MB)
    assert [d.disc_id for d in first] == [0]
    assert plan(cat, 40 * MB) == []
    (src / "new.txt").write_text("new content")
    scan_source(cat, src)
    second = plan(cat, 40 * MB)
    assert [d.disc_id for d in second] == [1] and second[0].files == 1


def test_large_content_is_split_into_pieces_over_discs(cat: Catalogue, tmp_path: Path) -> None:
    _sparse_tree(tmp_path / "src", [5 * MB])
    scan_source(cat, tmp_path / "src")
    discs = plan(cat, 2 * MB + 200_000)
    ((cid, *_),) = images.placements(cat.conn, discs[0].disc_id)
    rows = browse.pieces(cat.conn, cid)
    assert len(rows) >= 3 and [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0][2] == 0 and all(a[2] + a[3] == b[2] for a, b in itertools.pairwise(rows))
    assert rows[-1][2] + rows[-1][3] == 5 * MB
    assert len({r[1] for r in rows}) == len(rows) == len(discs)


def test_replan_keeps_written_discs(cat: Catalogue, tmp_path: Path) -> None:
    _sparse_tree(tmp_path / "src", [3 * MB] * 30)
    scan_source(cat, tmp_path / "src")
    discs = plan(cat, 40 * MB)
    burns.set_state(cat.conn, 0, 0, "written")
    kept = sorted(images.placements(cat.conn, 0))
    again = plan(cat, 20 * MB, replan=True)
    assert again[0].disc_id == 1 and len(again) > len(discs) - 1
    assert sorted(images.placements(cat.conn, 0)) == kept


def test_a_size_below_the_overhead_is_a_clear_error(cat: Catalogue, tmp_path: Path) -> None:
    _sparse_tree(tmp_path / "src", [10])
    scan_source(cat, tmp_path / "src")
    with pytest.raises(DiscError, match="cannot even hold"):
        plan(cat, 300_000)
    assert images.disc_count(cat.conn) == 0


def test_cli_plan_iso_and_num_isos(cli, home: Path, tmp_path: Path) -> None:
    _sparse_tree(tmp_path / "src", [2 * MB] * 30)
    with Catalogue.open(home / "catalogue.sqlite", create=True) as c:
        scan_source(c, tmp_path / "src")
    r = cli("plan_iso", "40M", "--json")
    assert r.code == 0, r.err
    assert len(r.json()["new_discs"]) == 2 and all(d["fill"] <= 1 for d in r.json()["new_discs"])
    assert cli("num_isos").out.strip() == "2"
    assert cli("plan_iso", "floppy").code == 2
    assert cli("plan_iso", "100k").code == 5


def test_label_must_suit_iso9660_and_is_used_for_images(cat: Catalogue, tmp_path: Path) -> None:
    _sparse_tree(tmp_path / "src", [1000])
    scan_source(cat, tmp_path / "src")
    with pytest.raises(DiscError, match="label"):
        plan(cat, 40 * MB, PlanConfig(label="bad label"))
    [d] = plan(cat, 40 * MB, PlanConfig(label="PHOTOS_2024"))
    assert disc_rows.label(cat.conn, d.disc_id) == "PHOTOS_2024"


def test_a_directory_starts_a_new_disc_rather_than_straddle_a_full_one(cat: Catalogue, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "a").mkdir(parents=True)
    (src / "b").mkdir()
    (src / "a" / "big.bin").write_bytes(os.urandom(16) + bytes(39_050_000))
    for i in range(10):
        (src / "b" / f"f{i}").write_bytes(os.urandom(50_000))
    scan_source(cat, src)
    discs = plan(cat, 40 * MB)
    assert discs[0].used_bytes >= 0.99 * 40 * MB
    b_discs = {d for d in disc_rows.ids(cat.conn) for p in images.placements(cat.conn, d) if b"/b/" in p[7]}
    assert b_discs == {1}
