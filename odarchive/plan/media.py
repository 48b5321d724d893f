"""Medium sizes: names (cd, dvd, bluray, ...) in 2048-byte sectors, or a byte count with k/M/G/T."""

from __future__ import annotations

import re

from odarchive.errors import UsageError

SECTOR = 2048
MEDIA_SECTORS = {
    "cd": 360_000,
    "dvd": 2_295_104,
    "dvd-dl": 4_171_712,
    "bluray": 12_219_392,
    "bd": 12_219_392,
    "bd-dl": 24_438_784,
    "bd-xl": 48_878_592,
    "bd-xx": 62_500_864,
}
_SUFFIX = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4}


def parse_size(text: str) -> int:
    """Capacity in bytes of medium `text`: a medium name or a number with an optional k/M/G/T."""
    key = text.strip().lower()
    if key in MEDIA_SECTORS:
        return MEDIA_SECTORS[key] * SECTOR
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kmgt]?)b?", key)
    if not m:
        raise UsageError(
            f"unknown disc size {text!r}",
            hint=f"use one of {', '.join(MEDIA_SECTORS)} or a byte count such as 700M or 25G",
        )
    return int(float(m.group(1)) * _SUFFIX[m.group(2)])
