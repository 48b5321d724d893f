"""The size of a dvdisaster RS03 error correction file, and how it rides on a disc.

RS03 (dvdisaster 0.79's multi-threaded, SIMD format, documented in its manual and its codec
specification) protects D data sectors with an error correction *file*: a 2-sector header,
then one CRC layer and `roots` Reed-Solomon layers, each `ceil(D / (254 - roots))` sectors
long (the data is cut into 254 - roots layers of that length; a codeword takes one sector of
every data, CRC and ECC layer, so the file's own sectors are protected like the data's).

odarchive writes that file straight behind the image's file system, inside the image that
is burned: the disc is [file system: D sectors][RS03 ECC file]. Readers see only the file
system (the volume declares D sectors); `split`/`joined` cut the image into the two files
dvdisaster works on (`dvdisaster -i data.iso -e data.ecc -f`) and put them back together.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from odarchive.ecc.setting import FIELD

SECTOR = 2048


def ecc_file_sectors(data_sectors: int, roots: int) -> int:
    """Sectors of the RS03 ECC file dvdisaster makes for `data_sectors` with `roots` roots."""
    per_layer = -(-data_sectors // (FIELD - roots - 1))
    return 2 + (roots + 1) * per_layer


def augmented_sectors(data_sectors: int, roots: int) -> int:
    """Sectors of an image of `data_sectors` with its RS03 ECC file behind it."""
    return data_sectors + ecc_file_sectors(data_sectors, roots)


def split(image: Path, data_sectors: int, ecc: Path) -> None:
    """Move the ECC file behind the first `data_sectors` of `image` into `ecc` (`image` keeps
    the data only). The ECC file is written and flushed before the image is cut."""
    with open(image, "rb") as src, open(ecc, "wb") as out:
        src.seek(data_sectors * SECTOR)
        while block := src.read(1 << 22):
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    os.truncate(image, data_sectors * SECTOR)


def join(image: Path, ecc: Path, digest: Any = None) -> None:
    """Append `ecc` to `image` (behind a file system, or again: the inverse of `split`) and
    remove it; with `digest` (a hashlib object), what is appended is hashed into it too."""
    with open(ecc, "rb") as src, open(image, "ab") as out:
        while block := src.read(1 << 22):
            out.write(block)
            if digest is not None:
                digest.update(block)
    ecc.unlink()
