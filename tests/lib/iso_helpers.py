"""Helpers for disc tests: random layouts, a zero-data file object, and building a pycdlib object
from a layout (the oracle of the size model and of our writer)."""

from __future__ import annotations

import io
import random
from typing import Any

from odarchive.iso.layout import DiscLayout
from tests.lib.pycdlib_writer import new_image, populate


class Zeros(io.RawIOBase):
    """`size` zero bytes, readable any number of times (model tests never write data)."""

    def __init__(self, size: int) -> None:
        self.size = size

    def readable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = 0) -> int:
        return 0

    def read(self, n: int = -1) -> bytes:
        return b"\0" * (self.size if n < 0 else n)


def pycdlib_blocks(layout: DiscLayout) -> tuple[int, Any]:
    """(blocks of the image pycdlib would write, the pycdlib object) for `layout`."""
    iso = new_image("TEST")
    populate(iso, layout, lambda f: Zeros(f.size), {n: Zeros(s) for n, s in layout.manifest.items()})
    iso._reshuffle_extents()
    return iso.pvd.space_size, iso


def _name(rng: random.Random) -> bytes:
    alphabet = "abcXYZ_-. 09éü中\U0001f600;*?:\\"
    text = "".join(rng.choice(alphabet) for _ in range(rng.choice([1, 3, 8, 20, 40, 70, 130])))
    raw = text.encode()[: rng.choice([255, 60, 20])]
    raw = raw.decode("utf-8", "ignore").encode() or b"x"
    if rng.random() < 0.1:
        raw += b"\xe9\xff"
    raw = raw.replace(b"/", b"_")
    return raw + b"x" if raw in (b".", b"..") else raw


def random_layout(seed: int) -> DiscLayout:
    """Up to 300 files with awkward names (255 bytes, not UTF-8, CJK, emoji, characters ISO 9660
    and Joliet refuse) in nested directories, 0 to 100 kB each, and random manifest sizes."""
    rng = random.Random(seed)
    layout = DiscLayout()
    dirs = [b"root"]
    for i in range(rng.randint(1, 300)):
        if rng.random() < 0.2:
            dirs.append(rng.choice(dirs) + b"/" + _name(rng))
        layout.add(
            rng.choice(dirs) + b"/" + _name(rng) + str(i).encode(), rng.choice([0, 1, 2047, 2048, 2049, 100_000]), None
        )
    layout.set_manifest_sizes(
        {
            "README.md": rng.randint(1, 9000),
            "catalogue.json": rng.randint(1, 90_000),
            "SHA256SUMS": rng.randint(1, 50_000),
        }
    )
    return layout
