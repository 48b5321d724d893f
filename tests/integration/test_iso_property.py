"""Property test of disc images: random source trees, written by `create_iso`, read back
identically by pycdlib, 7zz (UDF), isoinfo (ISO 9660 and Joliet) and xorriso -osirrox; and
every image exactly the size the planner's model says, block for block.

Files with the same bytes are stored once and listed under all their names. Trees: names
with bytes that are not UTF-8, 255-byte names, CJK and emoji, characters ISO 9660
and Joliet refuse, names differing only in case; directories up to 11 levels (ISO 9660's
relocation under /DEEP), empty files, empty directories and symlinks (recorded in
catalogue.json, not in the trees). Names made only of dots and spaces are left out: 7-Zip
shows them as "[]" (its rule for names Windows cannot have), whoever wrote the image. A few seeds run always; more, and a sparse file over
4 GiB (a multi-extent file), under the slow marker.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue
from odarchive.iso import sizing
from odarchive.iso.disc_files import load_layout
from odarchive.iso.names import raw_from_udf_text
from odarchive.iso.reader import DiscImage
from tests.lib import image_readers

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("7zz", "isoinfo", "xorriso")), reason="7zz, isoinfo or xorriso missing"
)

ALPHABET = "abcXYZ_-. 09éü中文\U0001f600;*?:\"<>|\\'# ~"


def _name(rng: random.Random, taken: set[bytes]) -> bytes:
    while True:
        kind = rng.random()
        if kind < 0.08:
            raw = b"n" * 255
        elif kind < 0.14:
            raw = "名".encode() * 85  # 255 bytes of CJK
        else:
            text = "".join(rng.choice(ALPHABET) for _ in range(rng.choice([1, 2, 5, 12, 30, 70])))
            raw = text.encode()[:255]
            raw = raw.decode("utf-8", "ignore").encode() or b"x"
        if rng.random() < 0.1:
            raw = raw[:250] + b"\xe9\xff"  # not UTF-8
        if rng.random() < 0.1:
            raw = raw.upper() if raw.lower() in taken else raw
        raw = raw.replace(b"/", b"_").replace(b"\0", b"_")
        if not raw.strip(b" .") or raw in taken:  # 7-Zip renames names of only dots and spaces ("[]")
            continue
        taken.add(raw)
        return raw


def _tree(src: Path, seed: int, huge: bool) -> dict[bytes, bytes]:
    """Make a random tree under src; returns archived path -> content (sparse huge files: b'')."""
    rng = random.Random(seed)
    base = os.fsencode(src)
    os.makedirs(base)
    files: dict[bytes, bytes] = {}
    dirs = [b""]
    taken: dict[bytes, set[bytes]] = {b"": set()}
    for _ in range(rng.randint(1, 14)):
        parent = rng.choice(dirs)
        if parent.count(b"/") > 9:
            continue
        d = (parent + b"/" if parent else b"") + _name(rng, taken[parent])
        os.mkdir(os.path.join(base, d))
        dirs.append(d)
        taken[d] = set()
    deep = b"/".join(b"L%02d" % i for i in range(11))  # always one tree deeper than ISO 9660 allows
    os.makedirs(os.path.join(base, deep))
    dirs.append(deep)
    taken[deep] = set()
    for i in range(rng.randint(3, 40)):
        parent = rng.choice(dirs)
        rel = (parent + b"/" if parent else b"") + _name(rng, taken[parent])
        data = rng.randbytes(rng.choice([0, 0, 1, 100, 2047, 2048, 2049, 5000, 70_000]))
        if rng.random() < 0.15 and files:
            data = rng.choice(list(files.values()))  # the same content under another name
        with open(os.path.join(base, rel), "wb") as f:
            f.write(data)
        files[b"src/" + rel] = data
        if rng.random() < 0.1 and b"link%d" % i not in taken[parent]:
            taken[parent].add(b"link%d" % i)
            os.symlink(rel.rsplit(b"/", 1)[-1], os.path.join(base, parent, b"link%d" % i))
    os.mkdir(os.path.join(base, b"empty dir"))
    if huge:
        with open(os.path.join(base, b"huge.bin"), "wb") as f:
            f.write(b"head")
            f.truncate(4 * 2**30 + 5 * 2**20 + 3)
        files[b"src/huge.bin"] = b""
    return files


def _expected(img: DiscImage) -> tuple[dict[str, dict[str, str]], dict[str, int]]:
    """Each view's {path: sha256} as the disc's own catalogue.json and SHA256SUMS say."""
    sums = dict((p, h) for h, p in img.sha256sums())
    doc = img.catalogue()
    paths = {**doc["odarchive"]["paths"], **doc["odarchive"]["names"]}
    udf = dict(sums)
    udf["SHA256SUMS"] = img.sha256("/SHA256SUMS")
    iso = {
        "README.MD;1": udf["README.md"],
        "CATALOGUE.JSON;1": udf["catalogue.json"],
        "SHA256SUMS.;1": udf["SHA256SUMS"],
    }
    joliet = {n: udf[n] for n in ("README.md", "catalogue.json", "SHA256SUMS")}
    sizes: dict[str, int] = {}  # files over 4 GiB (multi-extent), by their UDF, ISO 9660 and Joliet paths
    for path, entry in paths.items():
        iso[entry["iso"].lstrip("/")] = udf[path]
        joliet[entry["joliet"].lstrip("/")] = udf[path]
        size = entry.get("length", doc["files"][entry["sha256"]]["size"])
        if size > 0xFFFFF800:
            sizes[path] = sizes[entry["iso"].lstrip("/")] = sizes[entry["joliet"].lstrip("/")] = size
    assert set(paths) | {"README.md", "catalogue.json", "SHA256SUMS"} == set(udf)
    return {"udf": udf, "iso": iso, "joliet": joliet}, sizes


def _check_archive(tmp_path: Path, seed: int, huge: bool = False) -> None:
    from odarchive.cli import main

    src, home = tmp_path / "src", tmp_path / "home"
    files = _tree(src, seed, huge)
    home.mkdir()
    assert main(["--home", str(home), "create_db", str(src)]) == 0
    assert main(["--home", str(home), "plan_iso", "6G" if huge else "3M"]) == 0
    assert main(["--home", str(home), "create_iso", "all"]) == 0
    images = sorted((home / "isos").glob("*.iso"))
    seen: dict[bytes, str] = {}
    with Catalogue.open(home / "catalogue.sqlite") as cat:
        for n, image in enumerate(images):
            disc = int(image.stem.rsplit("_", 1)[1])
            with DiscImage(image) as img:
                want, sizes = _expected(img)
                layout = load_layout(cat, disc)
                layout.set_manifest_sizes({name: len(img.read_bytes("/" + name)) for name in layout.manifest})
                head = img.catalogue()["odarchive"]
                paths = {**head["paths"], **head["names"]}
            assert image.stat().st_size == sizing.image_bytes(layout), "the image is the size model's, exactly"
            got = image_readers.pycdlib_views(image)
            assert got == want, f"pycdlib, seed {seed}, disc {disc}"
            big_udf = {p: n_ for p, n_ in sizes.items() if p in want["udf"]}
            listed = {p: (f"{big_udf[p]} bytes" if p in big_udf else h) for p, h in want["udf"].items()}
            assert image_readers.sevenzip_udf(image, tmp_path / f"7z{n}", big_udf) == listed, f"7zz, seed {seed}"
            for joliet, view in ((False, "iso"), (True, "joliet")):
                shown = image_readers.isoinfo_expected(want[view], joliet, sizes)
                assert image_readers.isoinfo_view(image, joliet) == shown, f"isoinfo {view}, seed {seed}"
            big_jol = {p: n_ for p, n_ in sizes.items() if p in want["joliet"]}
            listed = {p: (f"{big_jol[p]} bytes" if p in big_jol else h) for p, h in want["joliet"].items()}
            assert image_readers.xorriso_tree(image, tmp_path / f"xo{n}", list(want["joliet"]), big_jol) == listed, (
                f"xorriso, seed {seed}"
            )
            for path, entry in paths.items():
                raw = bytes.fromhex(entry["raw"])[len(b"DATA/") :] if "raw" in entry else raw_from_udf_text(path[5:])
                seen[raw] = want["udf"][path]
    for rel, data in files.items():  # every source file is on a disc, with its bytes (huge: its hash)
        if rel == b"src/huge.bin":
            continue
        sha = hashlib.sha256(data).hexdigest()
        if len(images) == 1 or sum(d == data for d in files.values()) == 1:
            assert seen.get(rel) == sha, rel  # every name, also of contents stored once for several
        else:  # (a content's further names found after its disc was closed are not on a disc)
            assert sha in seen.values(), rel


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_trees_read_identically_by_every_reader(tmp_path: Path, seed: int) -> None:
    _check_archive(tmp_path, seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4, 9))
def test_more_random_trees(tmp_path: Path, seed: int) -> None:
    _check_archive(tmp_path, seed)


@pytest.mark.slow
def test_a_random_tree_with_a_sparse_file_over_4_gib(tmp_path: Path) -> None:
    _check_archive(tmp_path, 99, huge=True)
