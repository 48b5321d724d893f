"""Parsing a disc's catalogue.json: what our discs say, and what hostile ones may not."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue
from odarchive.errors import InputError
from odarchive.iso.build import build_disc_image
from odarchive.iso.disc_catalogue import parse_disc_catalogue
from odarchive.iso.reader import DiscImage
from odarchive.plan.planner import plan
from odarchive.scan import scan_source


@pytest.fixture(scope="module")
def discs(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    tmp = tmp_path_factory.mktemp("dc")
    src = tmp / "src"
    (src / "d" / "empty").mkdir(parents=True)
    (src / "d" / b"caf\xe9".decode("utf-8", "surrogateescape")).write_bytes(b"latin")
    (src / "d" / "big.bin").write_bytes(os.urandom(2_500_000))
    os.symlink("../d", src / "d" / "up")
    with Catalogue.open(tmp / "catalogue.sqlite", create=True) as cat:
        scan_source(cat, src)
        out = []
        for d in plan(cat, 1_500_000):
            with DiscImage(build_disc_image(cat, d.disc_id, tmp / "isos")) as img:
                out.append(img.catalogue())
    return out


def test_our_discs_parse_to_the_original_paths_pieces_and_tree(discs: list[dict]) -> None:
    parsed = [parse_disc_catalogue(d) for d in discs]
    files = [f for c in parsed for f in c.files]
    assert {f.archived_path for f in files} == {b"src/d/caf\xe9", b"src/d/big.bin"}
    pieces = sorted((f.part, f.offset, f.length) for f in files if f.part)
    assert [p[0] for p in pieces] == list(range(1, len(pieces) + 1)) and len(pieces) >= 2
    assert sum(p[2] for p in pieces) == 2_500_000
    tree = {(t.kind, t.archived_path): t.target for c in parsed for t in c.tree}
    assert tree[("l", b"src/d/up")] == b"../d" and ("d", b"src/d/empty") in tree


@pytest.mark.parametrize("damage", [
    lambda d: d["odarchive"]["paths"].update({"DATA/../../etc/passwd": next(iter(d["odarchive"]["paths"].values()))}),
    lambda d: d["odarchive"]["paths"].update({"DATA/src/x": {**next(iter(d["odarchive"]["paths"].values())), "raw": "2f6574632f706173737764"}}),
    lambda d: d["odarchive"].update(tree=[["l", "src/../../x", 0, 0, "t", None]]),
    lambda d: d["odarchive"].update(tree=[["d", "/abs", 0, 0, None, None]]),
    lambda d: d["odarchive"].update(disc=-1),
    lambda d: d["odarchive"].update(disc_map=[[0, "not-a-hash", 0]]),
    lambda d: d["odarchive"]["paths"][next(iter(d["odarchive"]["paths"]))].update(sha256="00" * 32),
    lambda d: d["odarchive"].update(other_filenames={"ab" * 32: ["a/\u0000/b"]}),
    lambda d: d.update(files=[]),
])
def test_hostile_catalogues_are_rejected(discs: list[dict], damage) -> None:
    bad = copy.deepcopy(discs[-1])
    damage(bad)
    with pytest.raises(InputError, match="catalogue.json"):
        parse_disc_catalogue(bad)
