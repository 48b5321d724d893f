"""The planned image: a truncated, extended or changed file is not it; one disc-selection parser."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue
from odarchive.errors import DiscError, UsageError
from odarchive.iso.build import build_disc_image
from odarchive.plan.planner import plan
from odarchive.planned_image import ImageRefused, ensure_planned, intact_image, mismatch, planned_image
from odarchive.scan import scan_source
from odarchive.selection import parse_disc_selection


def test_disc_selection() -> None:
    known = range(50)
    assert parse_disc_selection("0-3", known) == [0, 1, 2, 3]
    assert parse_disc_selection("3,5,9-12", known) == [3, 5, 9, 10, 11, 12]
    assert parse_disc_selection("all", [4, 2]) == [2, 4]
    assert parse_disc_selection(" 7 , 7 ", known) == [7]
    assert parse_disc_selection("ALL", []) == []
    for bad in ("5-2", "x", "1-", "", "-1", "1--3", "+3", "2-+4"):
        with pytest.raises(UsageError):
            parse_disc_selection(bad, known)
    with pytest.raises(DiscError) as e:
        parse_disc_selection("48-52", known)
    assert "50, 51, 52" in e.value.message and not isinstance(e.value, UsageError)


@pytest.fixture
def disc(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"f{i}").write_bytes(os.urandom(50_000))
    cat = Catalogue.open(tmp_path / "catalogue.sqlite", create=True)
    scan_source(cat, src)
    [d] = plan(cat, 2_000_000)
    image = build_disc_image(cat, d.disc_id, tmp_path / "isos")
    yield cat, d.disc_id, image, src
    cat.close()


def _damage(image: Path, how: str) -> None:
    data = bytearray(image.read_bytes())
    if how == "truncated":
        data = data[: len(data) // 3]
    elif how == "extended":
        data += b"\0" * 2048
    else:  # one byte changed, same size
        data[len(data) // 2] ^= 0x01
    image.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "extended", "changed"])
def test_a_damaged_image_is_not_the_planned_one_and_is_rebuilt(disc, how: str) -> None:
    cat, n, image, _src = disc
    planned = planned_image(cat, n)
    assert mismatch(image, planned) is None and intact_image(cat, n, image.parent) == image
    _damage(image, how)
    why = mismatch(image, planned)
    assert why is not None and how in why
    assert intact_image(cat, n, image.parent) is None
    path, record, rebuilt_because = ensure_planned(cat, n, image.parent)
    assert rebuilt_because == why and path == image
    assert mismatch(path, record) is None and record.size == path.stat().st_size


def test_a_damaged_image_whose_source_changed_is_refused(disc) -> None:
    cat, n, image, src = disc
    _damage(image, "changed")
    (src / "f1").write_bytes(os.urandom(50_000))
    with pytest.raises(ImageRefused) as e:
        ensure_planned(cat, n, image.parent)
    assert e.value.disc == n and "has changed" in e.value.message and "f1" in e.value.message
    assert planned_image(cat, n).sha256 is not None  # the record is kept: nothing was rebuilt


def test_a_missing_image_is_built_without_a_reason(disc) -> None:
    cat, n, image, _src = disc
    image.unlink()
    path, record, why = ensure_planned(cat, n, image.parent)
    assert why is not None and "missing" in why and mismatch(path, record) is None
