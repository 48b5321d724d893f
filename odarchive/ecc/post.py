"""The post-step of an image build: add the disc's planned error correction to the image.

`create_iso` (odarchive.iso.build) writes the image, then calls `add_planned_ecc`, which
augments it in place with dvdisaster RS02 (when the disc was planned with ECC), checks that
the result is within the medium, and returns the SHA-256 to record: that of the image as it
will be burned.
"""

from __future__ import annotations

from pathlib import Path

from odarchive.catalogue import Catalogue
from odarchive.ecc import tool
from odarchive.errors import DiscError
from odarchive.hashing import file_sha256


def planned_roots(cat: Catalogue, disc_id: int) -> int | None:
    row = cat.conn.execute("SELECT ecc_roots FROM discs WHERE id=?", (disc_id,)).fetchone()
    return row[0] if row else None


def add_planned_ecc(cat: Catalogue, disc_id: int, image: Path, image_sha256: bytes) -> bytes:
    """Augment `image` with disc `disc_id`'s planned ECC; the SHA-256 of the image to record."""
    roots = planned_roots(cat, disc_id)
    if not roots:
        return image_sha256
    size = tool.augment(image, roots)
    medium = cat.conn.execute("SELECT coalesce(medium_bytes, capacity_bytes) FROM discs WHERE id=?", (disc_id,)).fetchone()[0]
    if size > medium:
        raise DiscError(f"disc {disc_id} with its error correction would need {size} bytes, more than its {medium}",
                        hint="this is a bug in the planner's ECC arithmetic (odarchive.ecc.rs02); please report it")
    return file_sha256(image)
