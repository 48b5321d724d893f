"""Random awkward trees: every planned disc's image is within its medium and verifies."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue
from odarchive.iso.build import build_disc_image
from odarchive.iso.verify import verify_image
from odarchive.plan.planner import plan
from odarchive.scan import scan_source

CAPACITY = 1_500_000


def _name(rng: random.Random, i: int) -> bytes:
    kind = rng.random()
    if kind < 0.15:
        return b"x" * rng.randint(200, 250) + b"%d" % i  # too long for UDF's 253
    if kind < 0.3:
        return "é中😀".encode() * rng.randint(1, 12) + b"%d" % i
    if kind < 0.4:
        return b"bad\xff\xfe%d" % i
    if kind < 0.5:
        return "bad\uf7ff%d".encode() % i  # a genuine private-use character: collides with b"bad\xff"
    return b"file %d.txt" % i


@pytest.mark.parametrize("seed", range(4))
def test_random_trees_plan_within_the_medium_and_verify(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    src = tmp_path / "src"
    src.mkdir()
    dirs = [src]
    for i in range(80):
        if rng.random() < 0.25:
            d = rng.choice(dirs) / f"d{i}"
            d.mkdir(parents=True, exist_ok=True)
            dirs.append(d)
        d = os.fsencode(rng.choice(dirs))
        with open(os.path.join(d, _name(rng, i)), "wb") as f:
            f.write(os.urandom(rng.choice([0, 1, 3000, 60_000, 400_000, 900_000])))
    with Catalogue.open(tmp_path / "catalogue.sqlite", create=True) as cat:
        scan_source(cat, src)
        discs = plan(cat, CAPACITY)
        assert len(discs) >= 2
        for d in discs:
            assert d.used_bytes <= CAPACITY
            image = build_disc_image(cat, d.disc_id, tmp_path / "isos")
            assert image.stat().st_size <= d.used_bytes
            report = verify_image(image, cat)
            assert report.ok, report.problems
