"""Disc images read by tools that are not ours: 7zz (UDF), isoinfo (ISO 9660, Joliet), sha256sum.

One archive with awkward names (255 bytes, not UTF-8), a 20-level tree and a file split over
three discs, planned with a small SIZE and written with the command line.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue, browse
from odarchive.catalogue import discs as disc_rows
from odarchive.catalogue import images as image_rows
from odarchive.iso.names import raw_from_udf_text, udf_text
from odarchive.iso.reader import DiscImage

pytestmark = pytest.mark.skipif(not (shutil.which("7zz") and shutil.which("isoinfo")), reason="7zz/isoinfo missing")

SIZE = "2200k"  # ~1.5 MB of data per disc after the image's own overhead
BIG = 3_600_000


def _tree(src: Path) -> dict[bytes, bytes]:
    """Create the awkward source tree; returns archived path -> bytes."""
    rng = random.Random(7)
    files: dict[bytes, bytes] = {}

    def put(rel: bytes, data: bytes) -> None:
        path = os.path.join(os.fsencode(src), rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        files[b"src/" + rel] = data

    put(b"big/video.bin", rng.randbytes(BIG))
    put(b"names/" + b"a" * 255, b"255 ascii bytes")
    put(b"names/" + "中".encode() * 85, b"255 bytes of CJK")
    put(b"names/caf\xe9 latin1.txt", b"not utf-8")
    put(b"names/Mixed Case; semi*star?.TXT", b"joliet-hostile")
    put(b"names/back\\slash new\nline ctl\x01", b"escaped in SHA256SUMS")
    deep = b"/".join(b"level%02d" % i for i in range(20))
    put(b"deep/" + deep + b"/bottom.txt", b"twenty levels down")
    for i in range(30):
        put(b"many/file_%03d.txt" % i, b"small %d" % i)
    return files


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory):
    from odarchive.cli import main

    base = tmp_path_factory.mktemp("iso")
    home, src = base / "home", base / "src"
    home.mkdir()
    files = _tree(src)
    assert main(["--home", str(home), "create_db", str(src)]) == 0
    assert main(["--home", str(home), "plan_iso", SIZE]) == 0
    assert main(["--home", str(home), "create_iso", "all"]) == 0
    images = sorted((home / "isos").glob("*.iso"))
    return home, src, files, images


def _extract_udf(image: Path, dest: Path) -> None:
    subprocess.run(["7zz", "x", "-y", "-tudf", f"-o{dest}", str(image)], check=True, capture_output=True)


def test_images_are_within_size_and_complete(archive) -> None:
    home, _src, _files, images = archive
    assert len(images) >= 3
    assert all(img.stat().st_size <= 2_200_000 for img in images)
    assert not list((home / "isos").glob(".*partial"))
    with Catalogue.open(home / "catalogue.sqlite") as cat:
        discs = disc_rows.ids(cat.conn)
        assert {image_rows.disc_row(cat.conn, d)[3] for d in discs} == {"written"}
        for d in discs:
            _, name, _, sha = disc_rows.image_record(cat.conn, d)
            assert hashlib.sha256((home / "isos" / name).read_bytes()).digest() == sha
            for p in image_rows.placements(cat.conn, d):  # every placement has its extents in the image
                assert all(extents for *_, extents in browse.placements(cat.conn, p[0]))


def test_udf_tree_extracts_with_7zz_and_sha256sum_passes(archive, tmp_path: Path) -> None:
    _home, _src, files, images = archive
    found: dict[str, bytes] = {}
    for i, img in enumerate(images):
        dest = tmp_path / f"d{i}"
        _extract_udf(img, dest)
        assert {"README.md", "catalogue.json", "SHA256SUMS", "DATA"} <= set(os.listdir(dest))
        r = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=dest, capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        for dirpath, _dirs, names in os.walk(dest / "DATA"):
            for n in names:
                rel = os.path.relpath(os.path.join(dirpath, n), dest / "DATA")
                found[rel] = Path(dirpath, n).read_bytes()
    # full original names in UDF (non-UTF-8 bytes as U+F700+byte; 255 ASCII bytes exceed UDF's 253)
    for raw, data in files.items():
        if raw.endswith(b"video.bin") or raw.endswith(b"a" * 255):
            continue
        assert found[udf_text(raw)] == data, raw
    long_ascii = [k for k in found if k.startswith("src/names/aaaa")]
    assert len(long_ascii) == 1 and found[long_ascii[0]] == b"255 ascii bytes"
    parts = sorted(k for k in found if k.startswith("src/big/video.bin.part"))
    assert len(parts) >= 3
    assert b"".join(found[p] for p in parts) == files[b"src/big/video.bin"]


def test_iso9660_and_joliet_views_follow_the_recorded_mapping(archive, tmp_path: Path) -> None:
    """ISO 9660 files read with isoinfo; the Joliet tree extracted with xorriso."""
    _home, _src, files, images = archive
    checked = 0
    for i, img in enumerate(images):
        jdir = tmp_path / f"j{i}"
        subprocess.run(
            ["xorriso", "-osirrox", "on", "-local_charset", "UTF-8", "-indev", str(img), "-extract", "/", str(jdir)],
            check=True,
            capture_output=True,
        )
        with DiscImage(img) as d:
            paths = d.catalogue()["odarchive"]["paths"]
        for udf_path, entry in paths.items():
            raw = bytes.fromhex(entry["raw"]) if "raw" in entry else raw_from_udf_text(udf_path)
            iso = subprocess.run(
                ["isoinfo", "-i", str(img), "-x", entry["iso"]], capture_output=True, check=True
            ).stdout
            assert hashlib.sha256(iso).hexdigest() == entry.get("part_sha256", entry["sha256"]), udf_path
            assert (jdir / entry["joliet"].lstrip("/")).read_bytes() == iso
            if "part" not in entry:
                assert files[raw.removeprefix(b"DATA/")] == iso
            checked += 1
    assert checked == len(files) + 2  # the big file is in three pieces


def test_verify_passes_then_names_a_flipped_byte(archive, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    home, _src, _files, images = archive
    from odarchive.cli import main

    assert main(["--home", str(home), "verify", *map(str, images)]) == 0
    with Catalogue.open(home / "catalogue.sqlite") as cat:
        disc, offset = next(
            (d, browse.placements(cat.conn, p[0])[0][4][0][0])
            for d in disc_rows.ids(cat.conn)
            for p in image_rows.placements(cat.conn, d)
            if p[7].endswith(b"bottom.txt")
        )
    bad = tmp_path / "bad.iso"
    shutil.copy(images[disc], bad)
    with open(bad, "r+b") as f:
        f.seek(offset + 3)
        byte = f.read(1)
        f.seek(offset + 3)
        f.write(bytes([byte[0] ^ 0xFF]))
    capsys.readouterr()
    assert main(["--home", str(home), "verify", str(bad), "--json"]) == 1
    problems = json.loads(capsys.readouterr().out)["images"][0]["problems"]
    assert {p["kind"] for p in problems} == {"mismatch"}
    assert all(p["path"].endswith("bottom.txt") for p in problems) and len(problems) == 2


def test_a_source_changed_after_the_scan_stops_the_image(tmp_path: Path, cli, home: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(b"before" * 1000)
    (src / "b.txt").write_bytes(b"other")
    assert cli("create_db", str(src)).code == 0
    assert cli("plan_iso", "cd").code == 0
    (src / "a.txt").write_bytes(b"after!" * 1000)  # same size, other bytes
    r = cli("create_iso", "0")
    assert r.code == 5
    assert "a.txt" in r.err and "changed since it was scanned" in r.err
    assert not (home / "isos").exists() or not list((home / "isos").iterdir())
    with Catalogue.open(home / "catalogue.sqlite") as cat:
        assert image_rows.disc_row(cat.conn, 0)[3] == "planned"
