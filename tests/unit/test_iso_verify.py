"""verify: truncated images, discs of another archive, missing and unlisted files."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue, plans
from odarchive.iso.build import build_disc_image
from odarchive.iso.verify import verify_image
from odarchive.plan.planner import plan
from odarchive.scan import scan_source


@pytest.fixture
def built(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(b"alpha" * 100)
    cat = Catalogue.open(tmp_path / "catalogue.sqlite", create=True)
    scan_source(cat, src)
    [d] = plan(cat, 2_000_000)
    image = build_disc_image(cat, d.disc_id, tmp_path / "isos")
    yield cat, image
    cat.close()


@pytest.mark.parametrize("keep", [-2048, 20 * 2048])
def test_a_truncated_image_is_named(built, tmp_path: Path, keep: int) -> None:
    cat, image = built
    cut = tmp_path / "cut.iso"
    cut.write_bytes(image.read_bytes()[:keep])
    report = verify_image(cut, cat)
    assert not report.ok and report.problems[0].kind in ("truncated", "unreadable")
    assert report.problems[0].path == str(cut)


def test_another_archives_disc_is_checked_by_its_own_sums_only(built, tmp_path: Path) -> None:
    _cat, image = built
    with Catalogue.open(tmp_path / "other.sqlite", create=True) as other:
        plans.add_disc(other.conn, 0, "X", 1, 1, 1, None, [], [])
        report = verify_image(image, other)
    assert report.ok and report.files_checked == 3


def _handmade(path: Path, files: dict[str, bytes], sums: dict[str, bytes]) -> None:
    import pycdlib

    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, udf="2.60")
    catalogue = json.dumps({"version": 1, "files": {}, "odarchive": {"disc": 0}}).encode()
    lines = "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in sums.items()).encode()
    for i, (name, data) in enumerate({"catalogue.json": catalogue, "SHA256SUMS": lines, **files}.items()):
        iso.add_fp(io.BytesIO(data), len(data), iso_path=f"/F{i}.;1", joliet_path="/" + name, udf_path="/" + name)
    iso.write(str(path))
    iso.close()


def test_missing_and_unlisted_files_are_named(tmp_path: Path) -> None:
    image = tmp_path / "hand.iso"
    _handmade(image, {"here.txt": b"here", "stray.txt": b"stray"}, {"here.txt": b"here", "gone.txt": b"gone"})
    report = verify_image(image)
    kinds = {(p.kind, p.path) for p in report.problems}
    assert kinds == {("missing", "gone.txt"), ("unlisted", "stray.txt"), ("unlisted", "catalogue.json")}


def test_a_tail_truncated_image_checks_every_file_it_still_holds(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(12):
        (src / f"f{i:02d}.bin").write_bytes(bytes([i]) * 200_000 + bytes(range(256)) * i)
    with Catalogue.open(tmp_path / "catalogue.sqlite", create=True) as cat:
        scan_source(cat, src)
        [d] = plan(cat, 10_000_000)
        image = build_disc_image(cat, d.disc_id, tmp_path / "isos")
        cut = tmp_path / "cut.iso"
        data = image.read_bytes()
        cut.write_bytes(data[: len(data) // 2])
        report = verify_image(cut, cat)
    kinds = {}
    for p in report.problems:
        kinds.setdefault(p.kind, []).append(p.path)
    assert kinds.pop("truncated") == [str(cut)]
    lost = kinds.pop("unreadable")
    assert not kinds, kinds  # no mismatch: files in the lost tail are named, not hashed as zeros
    assert lost and all("beyond the end" in p.detail for p in report.problems if p.kind == "unreadable")
    # every file is either checked or named: the manifest files plus the 12 data files
    assert report.files_checked + len(lost) == 12 + 2 and report.files_checked >= 6
