"""`repair_image`: rebuild a damaged image with its own error correction, then check it.

dvdisaster repairs the image in place; afterwards the image is compared with what the home
recorded for its disc (size and SHA-256, `odarchive.planned_image`) when the home knows the
disc, so "repaired" means "byte for byte the image that was planned", not just "dvdisaster
is content". Which disc an image is: the recorded image name, else its catalogue.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from odarchive.catalogue import Catalogue
from odarchive.catalogue import discs as disc_rows
from odarchive.ecc import tool
from odarchive.errors import DiscError
from odarchive.planned_image import mismatch, planned_image


@dataclass
class ImageRepair:
    image: str
    disc: int | None = None
    repaired_sectors: int = 0
    unrepaired_sectors: int = 0
    matches_record: bool | None = None  # None: the home does not know this disc
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def repair_image(path: Path, cat: Catalogue | None) -> ImageRepair:
    report = ImageRepair(str(path))
    try:
        result = tool.repair(path)
    except DiscError as e:
        report.problems.append(e.message)
        return report
    report.repaired_sectors, report.unrepaired_sectors = result.repaired_sectors, result.unrepaired_sectors
    if not result.ok:
        report.problems.append(
            f"{result.unrepaired_sectors} sector(s) could not be repaired: the damage is larger than"
            " the error correction; read the disc again or use another copy"
        )
    report.disc = _disc_of(path, cat) if cat is not None else None
    if cat is not None and report.disc is not None:
        why = mismatch(path, planned_image(cat, report.disc))
        report.matches_record = why is None
        if why is not None:
            report.problems.append(f"disc {report.disc}: {why}")
    return report


def _disc_of(path: Path, cat: Catalogue) -> int | None:
    known = disc_rows.by_image_name(cat.conn, path.name)
    if known is not None:
        return known
    from odarchive.iso.reader import DiscImage

    try:
        with DiscImage(path) as img:
            head = img.catalogue().get("odarchive", {})
    except DiscError:
        return None
    disc = head.get("disc") if isinstance(head, dict) else None
    if not isinstance(disc, int) or head.get("archive_id") != cat.meta("archive_id"):
        return None
    return disc if disc_rows.exists(cat.conn, disc) else None
