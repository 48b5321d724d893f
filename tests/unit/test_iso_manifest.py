"""catalogue.json's optional sections stay within their budget and valid JSON."""

from __future__ import annotations

import json
import random

from odarchive.iso.manifest import Section, sha256sums_line
from odarchive.iso.reader import parse_sha256sums


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
