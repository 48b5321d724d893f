"""catalogue.json's optional sections stay within their budget and valid JSON; the planner's
manifest sizes are those of the rendered files."""

from __future__ import annotations

import json
import random

import pytest

from odarchive.iso import sizing
from odarchive.iso.disc_files import add_name
from odarchive.iso.layout import DiscLayout, FileNode
from odarchive.iso.manifest import (
    DiscInfo,
    Section,
    catalogue_json,
    manifest_extra,
    required_sizes,
    sha256sums,
    sha256sums_line,
)
from odarchive.iso.placed import Placed, disc_raw_path
from odarchive.iso.reader import parse_sha256sums
from tests.lib.iso_helpers import _name


def test_sections_fill_up_to_their_room_and_render_valid_json() -> None:
    rng = random.Random(5)
    for _ in range(200):
        room = rng.randint(0, 3000)
        sec = Section("disc_map", "[") if rng.random() < 0.5 else Section("other", "{")
        for i in range(rng.randint(0, 80)):
            line = (
                json.dumps([i, "x" * rng.randint(0, 90)])
                if sec.opener == "["
                else f'"k{i}": {json.dumps(["y"] * rng.randint(0, 5))}'
            )
            if not sec.add(line, room):
                break
        text = sec.render()
        assert len(text) <= max(room, Section(sec.name, sec.opener).cost())
        doc = json.loads('{"a": 1' + text + "}")
        assert doc[f"{sec.name}_complete"] is sec.complete


def test_sha256sums_lines_round_trip_through_the_reader() -> None:
    names = ["plain.txt", "back\\slash", "new\nline", "both\\\n", "ünï €"]
    text = "".join(sha256sums_line("ab" * 32, n) for n in names)
    assert [p for _, p in parse_sha256sums(text)] == names


def _placed(rng: random.Random, n: int, raw: bytes) -> Placed:
    size = rng.choice([0, 1, 2048, 100_000])
    sha = rng.randbytes(32)
    mtime = rng.choice([0, 10**9, 1_700_000_000_123_456_789, rng.randrange(2**63)])
    mode = rng.choice([0o100644, 0o100755, 0o104755])
    if rng.random() < 0.1:  # a piece of a larger content
        return Placed(n, rng.randint(1, 12), rng.randrange(10**12), size, sha, 10**12, mtime, raw, mode=mode)
    return Placed(n, 0, 0, size, sha, size, mtime, raw, mode=mode)


@pytest.mark.parametrize("seed", range(12))
def test_required_sizes_equal_the_rendered_manifests_while_a_disc_fills(seed: int) -> None:
    """The planner's sizes (summed per directory, kept while a directory does not change)
    are the byte counts of catalogue.json and SHA256SUMS as the builder renders them, after
    every step of filling, trial placements taken back, further names and renamed paths; and
    naming only the changed directories gives the names of naming all of them."""
    rng = random.Random(seed)
    info = DiscInfo("archive", seed, "LABEL", 1 << 24)
    layout = DiscLayout()
    dirs = [b"root"] + [b"root/" + b"/".join(b"deep%d" % i for i in range(k)) for k in range(5, 9)]
    added: list[tuple[bytes, Placed, int | None]] = []  # (disc path, row, number of its stored file)
    nodes: list[FileNode] = []
    for step in range(rng.randint(20, 60)):
        for _ in range(rng.randint(1, 12)):
            if rng.random() < 0.15:
                dirs.append(rng.choice(dirs) + b"/" + _name(rng))
            path = rng.choice(dirs) + b"/" + _name(rng) + b"%d" % len(added)
            stored = [i for i, (_, p, primary) in enumerate(added) if primary is None and not p.piece]
            if stored and rng.random() < 0.15:  # a further name of a stored content
                i = rng.choice(stored)
                nodes.append(add_name(layout, nodes[i], path, rng.randrange(10**18), 0o100600))
                added.append((path, nodes[-1].placed, i))
            else:
                p = _placed(rng, len(added), path)
                nodes.append(layout.add(disc_raw_path(p), p.length, p))
                added.append((disc_raw_path(p), p, None))
        if rng.random() < 0.5:  # the planner's trial: added, sized, taken back
            trial = _placed(rng, 10**6, rng.choice(dirs) + b"/" + _name(rng) + b"trial")
            node = layout.add(disc_raw_path(trial), 0, trial)
            required_sizes(layout, info, 0)
            layout.remove(disc_raw_path(trial), node)
        sizes = required_sizes(layout, info, 7)
        assert sizes["catalogue.json"] == len(catalogue_json(layout, info).encode()) + 7, step
        assert sizes["SHA256SUMS"] == len(sha256sums(layout, manifest_extra()).encode()), step
    fresh = DiscLayout()
    fresh_nodes: list[FileNode] = []
    for path, p, primary in added:
        if primary is None:
            fresh_nodes.append(fresh.add(path, p.length, p))
        else:
            fresh_nodes.append(add_name(fresh, fresh_nodes[primary], path, p.mtime_ns, p.mode))
    assert catalogue_json(fresh, info) == catalogue_json(layout, info)
    assert sizing.image_blocks(fresh) == sizing.image_blocks(layout)
