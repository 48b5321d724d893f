"""The size of a dvdisaster RS02 augmented image, so the planner can keep image + ECC <= medium.

RS02 (dvdisaster's format for ECC inside the image, documented in its manual and source)
appends to the image's D data sectors: an ECC header (2 sectors), a CRC32 per data sector
(ceil(4D / 2048) sectors), then `roots` layers of Reed-Solomon sectors, each as long as one
of the 255 - roots data layers the protected part (data + header + CRCs) is cut into, with
two-sector header copies repeated every `modulo` sectors through the ECC area (modulo a power
of two from 32 up, chosen so that there are at most ~40 copies). `augmented_sectors` computes
this; a test checks it against images dvdisaster really augments.
"""

from __future__ import annotations

from pathlib import Path

from odarchive.ecc.setting import FIELD

SECTOR = 2048


def augmented_sectors(data_sectors: int, roots: int) -> int:
    """Sectors of an image of `data_sectors` once dvdisaster RS02 adds `roots` roots."""
    crc = -(-4 * data_sectors // SECTOR)
    protected = data_sectors + 2 + crc
    layer = -(-protected // (FIELD - roots))
    rs = roots * layer
    modulo = 32
    while rs // modulo > 40:
        modulo *= 2
    first_copy = -(-protected // modulo) * modulo
    copies = (rs + protected - first_copy) // (modulo - 2) + 1
    return data_sectors + 2 + crc + rs + 2 * copies


def max_data_bytes(medium_bytes: int, roots: int | None) -> int:
    """The largest image (whole sectors) whose augmented form fits `medium_bytes`
    (`medium_bytes` itself without error correction)."""
    if roots is None:
        return medium_bytes
    medium = medium_bytes // SECTOR
    lo, hi = 0, medium  # augmented_sectors grows with the data: bisect the largest that fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if augmented_sectors(mid, roots) <= medium:
            lo = mid
        else:
            hi = mid - 1
    return lo * SECTOR


HEADER_MAGIC = b"*dvdisaster*RS02"


def has_ecc(image: Path) -> bool:
    """The image carries RS02 error correction: its ECC header follows the volume's last sector."""
    from odarchive.iso.reader import declared_size

    end = declared_size(image)
    if not end:
        return False
    with open(image, "rb") as f:
        f.seek(end)
        return f.read(len(HEADER_MAGIC)) == HEADER_MAGIC
