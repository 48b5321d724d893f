"""`odarchive robot burn --segments SPEC`: wire the catalogue to the robot's burn job.

The job itself (`robot_drivers.burn_job`) knows nothing of odarchive; here are the segment
spec, where a disc's image comes from, and the recorder that writes the burn record
(`odarchive.burnlog`) as the job reports. Discs already verified are skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from odarchive.burnlog import BurnLog
from odarchive.app.context import Context
from odarchive.app.robot_config import disc_from_label
from odarchive.errors import UsageError
from odarchive.hashing import file_sha256


def parse_segments(spec: str, known: list[int]) -> list[int]:
    """`0-40`, `3,5,9-12` or `all` -> sorted disc numbers; UsageError for bad or unknown ones."""
    if spec.strip().lower() == "all":
        return sorted(known)
    wanted: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if lo > hi:
                    raise ValueError(part)
                wanted.update(range(lo, hi + 1))
            else:
                wanted.add(int(part))
        except ValueError:
            raise UsageError(f"bad --segments {spec!r}: use e.g. 0-40, 3,5,9-12 or all") from None
    missing = sorted(wanted - set(known))
    if missing:
        shown = ", ".join(str(d) for d in missing[:10])
        raise UsageError(f"no planned disc(s) {shown} in the catalogue", hint="see `odarchive plan_iso` / `num_isos`")
    return sorted(wanted)


def image_of(ctx: Context, cat: Any, disc: int) -> Path:
    """The image file of `disc` under <home>/isos, built now (odarchive.iso) if it is not there."""
    row = cat.conn.execute("SELECT image_name FROM discs WHERE id=?", (disc,)).fetchone()
    if row and row[0] and (ctx.home.isos / row[0]).is_file():
        return ctx.home.isos / row[0]
    from odarchive.iso.build import build_disc_image

    return build_disc_image(cat, disc, ctx.home.isos)


class CatalogueRecorder:
    """The burn job's `BurnRecorder`: images from the home, the record in the catalogue."""

    def __init__(self, ctx: Context, cat: Any, log: BurnLog) -> None:
        self.ctx, self.cat, self.log = ctx, cat, log
        self.plan_labels = log.plan_labels()

    def image(self, disc: int) -> Any:
        from robot_drivers.burn_job import DiscImage
        from robot_drivers.volume_label import file_volume_label

        with self.log.lock:  # one user of the connection at a time (builds write the catalogue)
            path = image_of(self.ctx, self.cat, disc)
            row = self.cat.conn.execute("SELECT label, image_size, image_sha256 FROM discs WHERE id=?", (disc,)).fetchone()
        size = path.stat().st_size
        sha = row[2] if row[2] and row[1] == size else file_sha256(path)
        return DiscImage(disc=disc, path=path, label=file_volume_label(str(path)) or row[0], size=size, sha256=sha)

    def verified(self, disc: int, label: str, drive: int, slot: int, burn_s: float, sha256: bytes) -> None:
        self.log.record_verified(disc, drive, burn_s)

    def shelved(self, disc: int, slot: int | None) -> None:
        self.log.record_shelved(disc, slot)

    def rejected(self, disc: int | None, slot: int, reason: str) -> None:
        self.log.record_rejected(disc, slot, reason)

    def is_done(self, label: str | None) -> bool:
        return disc_from_label(label, self.plan_labels) in self.log.verified()

    def recovered(self, label: str | None, slot: int, blank: bool) -> None:
        disc = disc_from_label(label, self.plan_labels)
        if disc is not None and disc in self.log.verified():
            self.log.record_shelved(disc, slot)
        elif not blank:  # burned part-way, or not ours: never take it for a blank
            self.log.record_rejected(disc, slot, "medium left in a drive by an interrupted burn")




def run_burn(ctx: Context, robot: Any, spec: str, reporter: Any) -> dict[str, Any]:
    from robot_drivers.burn_job import BurnJob

    from odarchive.catalogue import Catalogue

    cat = Catalogue.open(ctx.home.catalogue, check_same_thread=False)  # the job's threads record
    try:
        log = BurnLog(cat)
        known = [d.disc for d in log.discs()]
        discs = parse_segments(spec, known)
        done = log.verified()
        todo = [d for d in discs if d not in done]
        recorder = CatalogueRecorder(ctx, cat, log)
        job = BurnJob(robot.changer, robot.drives, recorder, reporter, excluded_slots=log.slots_in_use(),
                      max_attempts=robot.config.max_attempts, media_timeout_s=robot.config.media_timeout_s)
        planned = sum(r[0] or 0 for d in todo for r in cat.conn.execute(
            "SELECT coalesce(image_size, used_bytes) FROM discs WHERE id=?", (d,)))
        outcomes = job.run(todo, total_bytes=planned or None) if todo else []
        return {
            "requested": discs,
            "skipped": sorted(set(discs) & done),
            "burned": [{"disc": o.disc, "label": o.label, "drive": o.drive, "slot": o.slot,
                        "seconds": round(o.burn_s, 3)} for o in outcomes],
            "rejected_media": [{"slot": s, "disc": d, "reason": r} for s, d, r in log.rejected()],
        }
    finally:
        cat.close()
