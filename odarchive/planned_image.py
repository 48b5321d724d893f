"""The one rule for "this image is the planned one": its size and SHA-256 as recorded.

`create_iso` records the size and SHA-256 of every image it writes (the image with its
error correction, when that is on). Everything that later trusts an image file — `create_iso`
keeping an existing image, `robot burn` before it burns and when it reads the disc back —
asks this module, so there is one answer: the file must exist and have exactly the recorded
size and hash. A truncated, extended or changed file is not the planned image, whatever its
name. `ensure_planned` then rebuilds it from the sources (when they still match the
catalogue) or refuses the disc with `ImageRefused`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from odarchive.catalogue import Catalogue
from odarchive.catalogue import discs as disc_rows
from odarchive.errors import DiscError
from odarchive.hashing import file_sha256


@dataclass(frozen=True)
class PlannedImage:
    """What `create_iso` recorded for a disc's image."""

    disc: int
    label: str
    name: str | None  # file name of the written image (None: never written)
    size: int | None
    sha256: bytes | None


class ImageRefused(DiscError):
    """A disc whose image is not the planned one and cannot be rebuilt: it is not burned."""

    def __init__(self, disc: int, why: str) -> None:
        super().__init__(
            f"disc {disc} refused: {why}",
            hint="rescan the source (`odarchive create_db`) and plan its content again, or restore the"
            " image file from a copy; the other discs were handled",
        )
        self.disc = disc
        self.why = why


def planned_image(cat: Catalogue, disc: int) -> PlannedImage:
    record = disc_rows.image_record(cat.conn, disc)
    if record is None:
        raise DiscError(f"there is no planned disc {disc}", hint="see `odarchive num_isos`")
    return PlannedImage(disc, *record)


def mismatch(path: Path, planned: PlannedImage) -> str | None:
    """Why the file at `path` is not `planned`'s image (None: it is). Reads the whole file
    only when its size is right."""
    if planned.size is None or planned.sha256 is None:
        return "no size and SHA-256 were recorded for its image (it was never written by create_iso here)"
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        return f"its image {path} is missing"
    except OSError as e:
        return f"its image {path} cannot be read: {e.strerror}"
    if size < planned.size:
        return f"its image {path} is truncated: {size} bytes, the planned image has {planned.size}"
    if size > planned.size:
        return f"its image {path} is extended: {size} bytes, the planned image has {planned.size}"
    try:
        digest = file_sha256(path)
    except OSError as e:
        return f"its image {path} cannot be read: {e.strerror}"
    if digest != planned.sha256:
        return (
            f"its image {path} has changed: SHA-256 {digest.hex()[:16]}..., the planned image has"
            f" {planned.sha256.hex()[:16]}..."
        )
    return None


def image_path(planned: PlannedImage, isos: Path) -> Path | None:
    return isos / planned.name if planned.name else None


def intact_image(cat: Catalogue, disc: int, isos: Path) -> Path | None:
    """The disc's image file in `isos` when it is exactly the one recorded, else None."""
    planned = planned_image(cat, disc)
    path = image_path(planned, isos)
    return path if path is not None and mismatch(path, planned) is None else None


def ensure_planned(
    cat: Catalogue, disc: int, isos: Path, reporter: object | None = None
) -> tuple[Path, PlannedImage, str | None]:
    """The disc's planned image in `isos`: as it is when it matches its record, else rebuilt
    from the sources. Returns (path, record, why it was rebuilt or None). Raises ImageRefused
    when the image is wrong and the sources no longer match the catalogue."""
    from odarchive.iso.build import build_disc_image

    planned = planned_image(cat, disc)
    path = image_path(planned, isos)
    why = None
    if path is not None:
        why = mismatch(path, planned)
        if why is None:
            return path, planned, None
    try:
        path = build_disc_image(cat, disc, isos, reporter)  # type: ignore[arg-type]
    except DiscError as e:
        raise ImageRefused(disc, f"{why or 'its image was never written'}; rebuilding it failed: {e.message}") from None
    return path, planned_image(cat, disc), why
