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
