"""Helpers for disc tests: a zero-data file object, and building a pycdlib object from a layout."""

from __future__ import annotations

import io
from typing import Any

from odarchive.iso.layout import DiscLayout
from odarchive.iso.populate import new_image, populate


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
