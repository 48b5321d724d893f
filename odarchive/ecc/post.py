"""The post-step of an image build: add the disc's planned error correction to the image.

`create_iso` (odarchive.iso.build) writes the image, then calls `add_planned_ecc`, which
adds the error correction the disc was planned with (RS03 for new discs, RS02 for discs
planned before; `odarchive.ecc.formats`) in place, checks that the result is within the
medium, and returns the SHA-256 to record: that of the image as it will be burned. For RS03
it goes on from the hash of the file system the writer computed as it wrote (only the
appended ECC file is hashed); an RS02 image, rewritten by dvdisaster, is hashed again whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from odarchive.catalogue import Catalogue
from odarchive.catalogue import discs as disc_rows
from odarchive.ecc import formats, tool
from odarchive.errors import DiscError
from odarchive.hashing import file_sha256


@dataclass(frozen=True)
class PlannedEcc:
    roots: int
    format: str  # formats.RS02 or formats.RS03


def planned_ecc(cat: Catalogue, disc_id: int) -> PlannedEcc | None:
    """The error correction disc `disc_id` was planned with (None: none)."""
    planned = disc_rows.ecc(cat.conn, disc_id)
    if planned is None:
        return None
    return PlannedEcc(planned[0], planned[1] or formats.RS02)


def add_planned_ecc(cat: Catalogue, disc_id: int, image: Path, image_hash: Any) -> bytes:
    """Augment `image` with disc `disc_id`'s planned ECC; the SHA-256 of the image to record.
    `image_hash` is the hashlib SHA-256 object of `image` as written (it is updated)."""
    ecc = planned_ecc(cat, disc_id)
    if ecc is None:
        return bytes(image_hash.digest())
    size = tool.augment(image, ecc.roots, ecc.format, image_hash if ecc.format == formats.RS03 else None)
    medium = disc_rows.medium_bytes(cat.conn, disc_id)
    if size > medium:
        raise DiscError(
            f"disc {disc_id} with its error correction would need {size} bytes, more than its {medium}",
            hint="this is a bug in the planner's ECC arithmetic (odarchive.ecc.formats); please report it",
        )
    return bytes(image_hash.digest()) if ecc.format == formats.RS03 else file_sha256(image)
