"""Restore through the error correction: when files come back damaged from an image that
carries ECC, repair a copy of that image and restore those files again from the copy.

The first pass is a plain restore. Only if some files failed their SHA-256 ("damaged") is any
image checked against its record (`odarchive.planned_image`); each one that differs and has
RS02 error correction is copied into a temporary directory inside the restore target,
repaired there, and used (with links to the other images, for pieces on other discs) for a
second restore of just the damaged paths. The images themselves are never changed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from odarchive.catalogue import Catalogue, Snapshot, Source
from odarchive.ecc import formats, tool
from odarchive.planned_image import mismatch, planned_image
from odarchive.progress import Reporter
from odarchive.restore import ImageDiscs, OpenDisc, Restorer, RestoreReport

DAMAGED = "damaged"  # the word restore's reasons for a failed SHA-256 carry


def restore_with_ecc(
    cat: Catalogue,
    target: Path,
    images: Path,
    snapshots: list[tuple[Source, Snapshot]],
    prefixes: tuple[bytes, ...],
    reporter: Reporter,
    open_disc: OpenDisc | None = None,
) -> RestoreReport:
    """Restore (discs from `open_disc`, default the images in `images`), then the damaged
    files again from repaired copies of the images that carry ECC."""
    discs = open_disc or ImageDiscs(cat, images)
    report = Restorer(cat, target, images, reporter, discs).run(snapshots, prefixes)
    damaged = [f for f in report.failed if DAMAGED in f["reason"]]
    if not damaged or not tool.available():
        return report
    with tempfile.TemporaryDirectory(prefix=".odarchive-ecc-", dir=target) as tmp:
        overlay = Path(tmp)
        for disc in sorted(set(report.discs_read)):
            planned = planned_image(cat, disc)
            image = images / planned.name if planned.name else None
            if image is None or not image.is_file() or not formats.has_ecc(image) or mismatch(image, planned) is None:
                continue
            copy = overlay / image.name
            shutil.copyfile(image, copy)
            if tool.repair(copy).ok and mismatch(copy, planned) is None:
                report.ecc_repaired_discs.append(disc)
            else:
                copy.unlink()
        if not report.ecc_repaired_discs:
            return report
        repaired = ImageDiscs(cat, overlay)

        def repaired_first(disc: int):  # the repaired image, else where the first pass read it
            return repaired(disc) if repaired.image(disc) is not None else discs(disc)

        again = Restorer(cat, target, overlay, reporter, repaired_first).run(
            snapshots, tuple(os.fsencode(f["path"]) for f in damaged)
        )
    retried = {f["path"] for f in damaged}
    report.failed = [f for f in report.failed if f["path"] not in retried] + again.failed
    report.files_restored += again.files_restored
    report.bytes_restored += again.bytes_restored
    return report
