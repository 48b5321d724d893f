"""`odarchive robot burn --segments SPEC`: wire the catalogue to the robot's burn job.

The job itself (`robot_drivers.burn_job`) knows nothing of odarchive; here are the segment
spec, where a disc's image comes from, and the recorder that writes the burn record
(`odarchive.burnlog`) as the job reports. Discs already verified are skipped. The burn
goes through the archive service, one lease per disc (`odarchive.app.burner`).

Only the planned image is burned: before the job starts, every disc's image is checked
against the size and SHA-256 recorded when it was written (`odarchive.planned_image`); a
wrong one is rebuilt from the sources, or, when they changed, the disc is refused (named in
the result, never burned, never recorded verified) and the other discs are burned. The
job reads each disc back and compares it with the recorded SHA-256, not the file's.
"""

from __future__ import annotations

from typing import Any

from odarchive.app.context import Context
from odarchive.app.robot_config import disc_from_label
from odarchive.burnlog import BurnLog
from odarchive.copies import set_name
from odarchive.errors import DiscError
from odarchive.iso.build import volume_ident
from odarchive.planned_image import ImageRefused, ensure_planned
from odarchive.selection import parse_disc_selection


def prepare_images(
    ctx: Context, cat: Any, discs: list[int]
) -> tuple[dict[int, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """Each disc's planned image (built or rebuilt as needed) as the job's `DiscImage`;
    also the discs refused and the images rebuilt, each with the reason."""
    from robot_drivers.burn_job import DiscImage

    images, refused, rebuilt = {}, [], []
    for disc in discs:
        try:
            path, planned, why = ensure_planned(cat, disc, ctx.home.isos)
        except ImageRefused as e:
            refused.append({"disc": disc, "reason": e.why})
            continue
        if why is not None:
            rebuilt.append({"disc": disc, "reason": why})
        assert planned.size is not None and planned.sha256 is not None
        label = volume_ident(planned.label, disc)
        images[disc] = DiscImage(disc=disc, path=path, label=label, size=planned.size, sha256=planned.sha256)
    return images, refused, rebuilt


class CatalogueRecorder:
    """The burn job's `BurnRecorder`: images from the home, the record in the catalogue."""

    def __init__(self, log: BurnLog, images: dict[int, Any]) -> None:
        self.log, self.images = log, images
        self.plan_labels = log.plan_labels()

    def image(self, disc: int) -> Any:
        """The planned image, checked before the job started; the read-back is compared with
        its recorded size and SHA-256."""
        return self.images[disc]

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


def replace_disc(ctx: Context, client: Any, disc: int, copy: int) -> str:
    """Make copy `copy` of `disc` burnable again (scrub found it failing): its medium is
    rejected (never used as a blank, its slot left alone) and its image made ready — the
    planned image, rebuilt from the sources, or read back from another copy that reads
    identical. Returns where the image came from."""
    from odarchive.app.robot_config import robot_config
    from odarchive.app.scrub import image_from_copy
    from odarchive.catalogue import Catalogue, burns
    from odarchive.planned_image import intact_image

    with Catalogue.open(ctx.home.catalogue) as cat:
        log = BurnLog(cat, copy)
        row = burns.state_and_slot(cat.conn, disc, copy)
        if row is None or row[0] != "verified":
            raise DiscError(
                f"disc {disc} set {set_name(copy)} is not a burned disc: nothing to replace",
                hint="see `odarchive whereis` or `odarchive scrub --history`",
            )
        source = "the image file"
        if intact_image(cat, disc, ctx.home.isos) is None:
            try:
                ensure_planned(cat, disc, ctx.home.isos)
                source = "the image rebuilt from the sources"
            except ImageRefused:
                with cat.transaction() as conn:  # read it from another copy, not from the one being replaced
                    burns.set_state(conn, disc, copy, "written" if not copy else "planned")
                if image_from_copy(cat, client, disc, ctx.home.isos, robot_config(ctx).xorriso) is None:
                    raise ImageRefused(
                        disc, "its image is gone, its sources changed and no other copy reads identical"
                    ) from None
                source = "another copy, read back"
        if row[1] is not None:
            log.record_rejected(disc, row[1], f"replaced: disc {disc} set {set_name(copy)} failed its scrub")
        with cat.transaction() as conn:
            burns.unburn(conn, disc, copy)
        return source


def run_burn(ctx: Context, client: Any, spec: str, reporter: Any, copy: int = 0) -> dict[str, Any]:
    """Burn the discs `spec` names (copy 0, set A) or their copies of set `copy`, through the
    archive service (`client`): one lease per disc, the burn and its read-back done here
    (`odarchive.app.burner`)."""
    from odarchive.app.burner import LeasedBurn
    from odarchive.app.robot_config import robot_config
    from odarchive.catalogue import Catalogue

    conf = robot_config(ctx)
    cat = Catalogue.open(ctx.home.catalogue, check_same_thread=False)  # the job's threads record
    try:
        log = BurnLog(cat, copy)
        known = [d.disc for d in log.discs()]
        discs = parse_disc_selection(spec, known, what="--segments")
        if copy:
            no_copy = sorted(set(discs) - log.planned_copies())
            if no_copy:
                raise DiscError(
                    f"no copy in set {set_name(copy)} is planned for disc(s) {', '.join(map(str, no_copy[:10]))}",
                    hint=f"plan copies first: `odarchive plan_iso SIZE --copies {copy + 1}`",
                )
        done = log.verified()
        images, refused, rebuilt = prepare_images(ctx, cat, [d for d in discs if d not in done])
        todo = sorted(images)
        recorder = CatalogueRecorder(log, images)
        job = LeasedBurn(
            client.spawn,
            recorder,
            reporter,
            workers=len(client.status()["drives"]),
            xorriso=conf.xorriso,
            max_attempts=conf.max_attempts,
            media_timeout_s=conf.media_timeout_s,
            copy=copy,
        )
        planned = sum(images[d].size for d in todo)
        outcomes = job.run(todo, total_bytes=planned or None) if todo else []
        bins = any("name" in slot for slot in client.robot("inventory")["slots"])  # burned discs go to a bin
        stuck = (
            []
            if bins
            else sorted(d.disc for d in log.discs() if d.disc in discs and d.state == "verified" and d.slot is None)
        )
        return {
            "requested": discs,
            "copy": copy,
            "set": set_name(copy),
            "skipped": sorted(set(discs) & done),
            "burned": [
                {"disc": o.disc, "label": o.label, "drive": o.drive, "slot": o.slot, "seconds": round(o.burn_s, 3)}
                for o in outcomes
            ],
            "unshelved": stuck,
            "rejected_media": [{"slot": s, "disc": d, "reason": r} for s, d, r in log.rejected()],
            "refused": refused,
            "rebuilt": rebuilt,
        }
    finally:
        cat.close()
