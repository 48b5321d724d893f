"""Medium sizes: names (cd, dvd, bluray, ...) in 2048-byte sectors, or a size in the grammar of
`odarchive.units` ("25G" = 25*10^9 bytes, "4GiB" = 4*2^30)."""

from __future__ import annotations

from odarchive import units
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


def parse_size(text: str) -> int:
    """Capacity in bytes of medium `text`: a medium name or a size ("700M", "25G", "4GiB")."""
    key = text.strip().lower()
    if key in MEDIA_SECTORS:
        return MEDIA_SECTORS[key] * SECTOR
    try:
        return units.parse_size(key)
    except ValueError:
        raise UsageError(
            f"unknown disc size {text!r}",
            hint=f"use one of {', '.join(MEDIA_SECTORS)} or a size such as 700M, 25G or 4GiB ({units.SIZE_HELP})",
        ) from None
