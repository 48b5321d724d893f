"""The robot motions the service carries out: a disc into a drive for its readers, a blank
into a drive for a burn, a medium back to its slot, and reconciling after a restart.

Every motion runs on the service's one robot thread (the changer has one picker), and
reports through exceptions (`robot_drivers.errors.RobotError`, `MotionError`). The burn
record in the catalogue (`odarchive.burnlog.BurnLog`) says which disc sits in which slot and
which media were rejected; the service writes it when media move.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from odarchive.app.context import Context
from odarchive.app.robot_config import Robot, disc_from_label
from robot_drivers import errors
from robot_drivers.burn_job import has_medium
from robot_drivers.interfaces import (
    BLANK,
    DRIVE_EMPTY,
    DRIVE_LOADED,
    DRIVE_UNKNOWN,
    FULL,
    SLOT_KIND_BIN,
    SLOT_KIND_STORAGE,
)


class MotionError(errors.RobotError):
    """A motion that could not be done (no such disc in the changer, no blank left)."""


class DiscFailed(MotionError):
    """No copy of a disc could be loaded and read; the drive is fine (and empty)."""


@contextmanager
def burn_log(ctx: Context) -> Iterator[Any]:
    from odarchive.burnlog import BurnLog
    from odarchive.catalogue import Catalogue

    cat = Catalogue.open(ctx.home.catalogue)
    try:
        yield BurnLog(cat)
    finally:
        cat.close()


class Motions:
    def __init__(self, ctx: Context, robot: Robot) -> None:
        self.ctx, self.robot = ctx, robot
        self.bad_slots: set[int] = set()  # blanks that would not load this run (sensor miss, not blank)
        self.slot_of_drive: dict[int, int | None] = {}  # where each drive's medium came from

    # ---- discs ----
    def describe(self, disc: int) -> str:
        label = self._labels().get(disc)
        return f"disc {disc} ({label})" if label else f"disc {disc}"

    def _labels(self) -> dict[int, str]:
        if not self.ctx.home.catalogue.exists():
            return {}
        from odarchive.catalogue import discs as disc_rows
        from odarchive.iso.build import volume_ident

        with self.ctx.open_catalogue() as cat:
            return {d: volume_ident(label, d) for d, label in disc_rows.labels(cat.conn).items()}

    def _tries(self, disc: int, copy: int | None, inventory: Any) -> list[tuple[int | None, int]]:
        """(copy, slot) to load `disc` from, in turn: the recorded slots of its burned copies
        (set A first; only `copy` if one was asked for), else a slot whose label the changer
        reports (copy unknown). MotionError naming where the copies are kept if none is in."""
        from odarchive.copies import copies_of, set_name

        label = self._labels().get(disc)
        copies = []
        if self.ctx.home.catalogue.exists():
            with self.ctx.open_catalogue() as cat:
                copies = [c for c in copies_of(cat, disc) if copy is None or c.copy == copy]
        tries: list[tuple[int | None, int]] = [
            (c.copy, c.slot)
            for c in copies
            if c.state == "verified" and c.slot is not None and inventory.slot(c.slot).occupied
        ]
        if not tries and copy is None:
            tries += [(None, s.slot) for s in inventory.slots if label and s.label == label and s.occupied][:1]
        if tries:
            return tries
        kept = "; ".join(f"set {set_name(c.copy)}: {c.location}" for c in copies if c.slot is None and c.location)
        which = f"{self.describe(disc)}" + (f" set {set_name(copy)}" if copy is not None else "")
        raise MotionError(
            f"{which} is in no slot of the changer" + (f"; it is kept at {kept}" if kept else ""),
            hint=f"insert disc {disc} into the robot (`odarchive robot import SLOT`): the service identifies it",
        )

    def load_disc(self, drive: int, disc: int, copy: int | None = None) -> tuple[int | None, list[str]]:
        """Load `disc` (copy `copy`, or any) into `drive`, checked readable; when a copy cannot
        be loaded or read the next one is tried. Returns the copy loaded (None: not known) and
        what happened on the way (one line per copy that failed, and which one served)."""
        inventory = self.robot.changer.inventory()
        tries = self._tries(disc, copy, inventory)
        self.clear(drive, inventory)
        notes: list[str] = []
        for i, (which, slot) in enumerate(tries):
            try:
                self._load_slot(drive, disc, slot, check=copy is None)
            except (errors.UnreadableDisc, errors.WrongDisc, errors.EmptySlot, errors.DriveNotReady) as e:
                self._empty(drive, slot)  # the disc is at fault, not the drive
                if i == len(tries) - 1:
                    raise DiscFailed(f"{self.describe(disc)}: {e}", hint=e.hint) from None
                notes.append(f"disc {disc} from slot {slot} failed ({e}); trying its copy in slot {tries[i + 1][1]}")
                continue
            if i:
                notes.append(f"disc {disc} served by its copy in slot {slot}")
            return which, notes
        raise AssertionError("unreachable: _tries returns at least one slot")

    def _load_slot(self, drive: int, disc: int, slot: int, check: bool) -> None:
        """Load `slot` and check it is `disc` (its volume label: a disc that cannot be read
        fails here, unless not `check`: a read of one copy, a scrub, takes it as it is)."""
        self.robot.changer.load(slot, drive)
        self.slot_of_drive[drive] = slot
        dev = self.robot.drives[drive]
        dev.wait_for_media(self.robot.config.media_timeout_s)
        try:
            label = dev.volume_label()
        except errors.UnreadableDisc:
            if check:
                raise
            return
        want = self._labels().get(disc)
        if want and label != want:
            raise errors.WrongDisc(f"drive {drive} holds {label or 'an unlabelled medium'}, not {self.describe(disc)}")

    def _empty(self, drive: int, slot: int) -> None:
        """Put back what a failed load left in `drive`."""
        self.slot_of_drive.pop(drive, None)
        if self.robot.changer.inventory().drive(drive).state != DRIVE_EMPTY:
            self.robot.drives[drive].eject()
            self.robot.changer.unload(drive, slot)

    # ---- blanks ----
    def load_blank(self, drive: int) -> int | None:
        """A blank into `drive`; the slot it came from (None: an input bin). Skips media that
        turn out not to be blank (recorded as rejected) and slots that fail to load."""
        while True:
            inventory = self.robot.changer.inventory()
            self.clear(drive, inventory)
            slot, from_bin = self._pick_blank(inventory)
            try:
                self.robot.changer.load(slot, drive)
            except errors.EmptySlot as e:
                if from_bin:
                    raise errors.NoBlankMedia(f"the input bin is empty: {e}") from None
                self.bad_slots.add(slot)
                raise
            self.slot_of_drive[drive] = None if from_bin else slot
            dev = self.robot.drives[drive]
            dev.wait_for_media(self.robot.config.media_timeout_s)
            if dev.medium_size() == 0:
                self.bad_slots.clear()  # a sensor miss skips a slot for one pick, not for good
                return None if from_bin else slot
            self.put_back(drive, verified=False, reason="not blank")

    def _pick_blank(self, inventory: Any) -> tuple[int, bool]:
        bins = {s.name: s.slot for s in inventory.slots if s.kind == SLOT_KIND_BIN}
        if "input" in bins:
            return bins["input"], True
        excluded = set(self.bad_slots) | {s for s in self.slot_of_drive.values() if s is not None}
        if self.ctx.home.catalogue.exists():
            with burn_log(self.ctx) as log:
                excluded |= log.slots_in_use()
        for s in inventory.slots:
            if s.kind == SLOT_KIND_STORAGE and s.state in (BLANK, FULL) and s.slot not in excluded:
                return s.slot, False
        raise errors.NoBlankMedia(
            "no blank medium left in the changer", hint="add blanks (`odarchive robot import SLOT`)"
        )

    def put_back(self, drive: int, verified: bool, reason: str = "", disc: int | None = None) -> int | None:
        """Eject and unload `drive` (to its slot, or the output/reject bin); a medium put back
        with a `reason` is recorded as rejected. Returns the slot it went to."""
        inventory = self.robot.changer.inventory()
        bins = {s.name: s.slot for s in inventory.slots if s.kind == SLOT_KIND_BIN}
        origin = self.slot_of_drive.pop(drive, None) or inventory.drive(drive).loaded_from_slot
        target = bins.get("output" if verified else "reject", origin) if verified or reason else origin
        self.robot.drives[drive].eject()
        slot = self.robot.changer.unload(drive, target)
        if reason and slot is not None and self.ctx.home.catalogue.exists():
            with burn_log(self.ctx) as log:
                log.record_rejected(disc, slot, reason)
        return None if "input" in bins else slot

    def clear(self, drive: int, inventory: Any) -> None:
        """Empty `drive` before loading another medium: a disc of ours goes back to its slot
        (recorded there) or, on a bin machine, to the output bin; anything else left there
        (a burn cut short) to the reject bin, recorded as rejected. A bin autoloader cannot
        say whether its drive is loaded, so the drive is asked."""
        info = inventory.drive(drive)
        dev = self.robot.drives[drive]
        if info.state != DRIVE_LOADED and not (info.state == DRIVE_UNKNOWN and has_medium(dev)):
            return
        try:
            label, blank = dev.volume_label(), dev.medium_size() == 0
        except errors.RobotError:
            label, blank = None, False
        bins = {s.name: s.slot for s in inventory.slots if s.kind == SLOT_KIND_BIN}
        ours = self._verified_disc(label)
        target = (
            (bins.get("output") if ours is not None else bins.get("reject")) if bins else self.slot_of_drive.get(drive)
        )
        self.slot_of_drive.pop(drive, None)
        dev.eject()
        slot = self.robot.changer.unload(drive, target)
        if ours is None and not blank and self.ctx.home.catalogue.exists():
            with burn_log(self.ctx) as log:
                log.record_rejected(None, slot, "medium left in a drive by an interrupted burn")
        elif not bins:
            self.shelved(label, slot)

    def _verified_disc(self, label: str | None) -> int | None:
        if label is None or not self.ctx.home.catalogue.exists():
            return None
        with burn_log(self.ctx) as log:
            disc = disc_from_label(label, log.plan_labels())
            return disc if disc in log.verified_any() else None

    def shelved(self, label: str | None, slot: int | None) -> None:
        """Record that the medium labelled `label` is in `slot`, if it is one of our discs."""
        if label is None or slot is None or not self.ctx.home.catalogue.exists():
            return
        with burn_log(self.ctx) as log:
            disc = disc_from_label(label, log.plan_labels())
            if disc is not None:
                log.shelve_found(disc, slot)

    # ---- after a restart or a kill -9 ----
    def reconcile(self, only: list[int] | None = None) -> dict[int, int | None]:
        """What each drive holds, by disc: a disc of ours stays (it can be read at once); any
        other medium (a burn cut short, a stranger) goes back to its slot and, unless blank,
        is recorded as rejected. Returns drive -> disc (None: empty), for the drives in `only`
        (default: all)."""
        inventory = self.robot.changer.inventory()
        plan_labels, verified = set(), set()
        if self.ctx.home.catalogue.exists():
            with burn_log(self.ctx) as log:
                plan_labels, verified = log.plan_labels(), log.verified_any()
        held: dict[int, int | None] = {}
        for info in inventory.drives:
            if only is not None and info.drive not in only:
                continue
            held[info.drive] = None
            if info.state == DRIVE_EMPTY or info.drive not in self.robot.drives:
                continue
            dev = self.robot.drives[info.drive]
            try:
                dev.wait_for_media(self.robot.config.media_timeout_s)
                label, blank = dev.volume_label(), dev.medium_size() == 0
            except errors.RobotError:
                label, blank = None, False
            disc = disc_from_label(label, plan_labels)
            if disc is not None and disc in verified:
                held[info.drive] = disc
                self.slot_of_drive[info.drive] = info.loaded_from_slot
                self.shelved(label, info.loaded_from_slot)  # its home slot, should the burn have died before shelving
                continue
            dev.eject()
            slot = self.robot.changer.unload(info.drive, info.loaded_from_slot)
            if not blank and self.ctx.home.catalogue.exists():
                with burn_log(self.ctx) as log:
                    log.record_rejected(disc, slot, "medium left in a drive by an interrupted burn")
        return held
