"""Every archived name on its disc: files with the same bytes are stored once and listed under
every name in the UDF, ISO 9660 and Joliet trees (one file entry, one extent), at no extra
data; SHA256SUMS lists every name; 7zz and isoinfo show them all; the planner's model holds.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue, images
from odarchive.iso import sizing
from odarchive.iso.disc_files import load_layout
from odarchive.iso.reader import DiscImage

pytestmark = pytest.mark.skipif(not (shutil.which("7zz") and shutil.which("isoinfo")), reason="7zz/isoinfo missing")

SAME = os.urandom(5000)
NAMES = [
    b"a/one.bin",
    b"a/two.bin",
    b"b/deeper/three.bin",
    "b/中文 four.bin".encode(),
    b"c/caf\xe9.bin",
    b"c/" + b"x" * 255,
]


def _archive(tmp_path: Path, extra_dups: int = 0) -> tuple[Path, Path]:
    from odarchive.cli import main

    src, home = tmp_path / "src", tmp_path / "home"
    for rel in NAMES + [b"d/dup%03d" % i for i in range(extra_dups)]:
        path = os.path.join(os.fsencode(src), rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(SAME)
    (src / "other.txt").write_bytes(b"a different content")
    home.mkdir()
    assert main(["--home", str(home), "create_db", str(src)]) == 0
    assert main(["--home", str(home), "plan_iso", "900k" if extra_dups else "2M"]) == 0
    assert main(["--home", str(home), "create_iso", "all"]) == 0
    [image] = sorted((home / "isos").glob("*.iso"))
    return home, image


def _isoinfo_extents(image: Path, joliet: bool) -> dict[str, int]:
    """name -> first block, from `isoinfo -l` (files only)."""
    out = subprocess.run(
        ["isoinfo", *(["-J"] if joliet else []), "-l", "-i", str(image)], check=True, capture_output=True
    ).stdout.decode("latin-1")
    found = {}
    for line in out.splitlines():
        m = re.match(r"-\S+\s.*\[\s*(\d+) 00\]  (.*) $", line)
        if m:
            found[m.group(2)] = int(m.group(1))
    return found


def test_same_content_is_stored_once_under_every_name(tmp_path: Path) -> None:
    home, image = _archive(tmp_path)
    want = hashlib.sha256(SAME).hexdigest()
    with DiscImage(image) as img:
        sums = {p: h for h, p in img.sha256sums()}
        doc = img.catalogue()
        udf_names = [p for p in sums if sums[p] == want]
        assert len(udf_names) == len(NAMES), "SHA256SUMS lists every name"
        offsets = {tuple(img.extents("/" + p)) for p in udf_names}
        assert len(offsets) == 1, "every UDF name points at the one stored copy"
        assert all(img.sha256("/" + p) == want for p in udf_names)
        [entry] = [e for sha, e in doc["files"].items() if sha == want]
        assert len(entry["filenames"]) == len(NAMES)
        assert len(doc["odarchive"]["paths"]) + len(doc["odarchive"]["names"]) == len(NAMES) + 1
    with Catalogue.open(home / "catalogue.sqlite") as cat:
        layout = load_layout(cat, 0)
        assert layout.n_files == 2 and layout.n_names == len(NAMES) - 1
        with DiscImage(image) as img:
            layout.set_manifest_sizes({n: len(img.read_bytes("/" + n)) for n in layout.manifest})
        assert image.stat().st_size == sizing.image_bytes(layout), "the planner's model, block for block"
        data_blocks = sum(sizing.data_blocks(p[3]) for p in images.placements(cat.conn, 0))
        assert data_blocks == sizing.data_blocks(len(SAME)) + 1, "no extra data"
    listing = subprocess.run(["7zz", "l", "-tudf", str(image)], check=True, capture_output=True).stdout.decode()
    for name in (n.decode("utf-8", "replace") for n in NAMES[:4]):
        assert f"DATA/src/{name}" in listing
    sevenz = tmp_path / "7z"
    subprocess.run(["7zz", "x", "-y", "-tudf", f"-o{sevenz}", str(image)], check=True, capture_output=True)
    extracted = [p for p in sevenz.rglob("*") if p.is_file() and p.read_bytes() == SAME]
    assert len(extracted) == len(NAMES)
    for joliet in (False, True):
        blocks = _isoinfo_extents(image, joliet)
        same = {
            name: b
            for name, b in blocks.items()
            if name
            not in (
                "README.MD;1",
                "CATALOGUE.JSON;1",
                "SHA256SUMS.;1",
                "README.md",
                "catalogue.json",
                "SHA256SUMS",
                "OTHER.TXT;1",
                "other.txt",
            )
        }
        assert len(same) == len(NAMES) and len(set(same.values())) == 1, f"one extent (joliet={joliet}): {same}"
    from odarchive.cli import main

    assert main(["--home", str(home), "verify", str(image)]) == 0


def test_a_disc_too_full_for_every_name_keeps_the_names_that_fit(tmp_path: Path) -> None:
    """Many names of one content on a small disc: the plan stays within the medium."""
    _home, image = _archive(tmp_path, extra_dups=700)
    assert image.stat().st_size <= 900_000
    with DiscImage(image) as img:
        sums = {p: h for h, p in img.sha256sums()}
    listed = sum(1 for h in sums.values() if h == hashlib.sha256(SAME).hexdigest())
    assert len(NAMES) < listed < len(NAMES) + 700, listed
