"""`robot load|unload|import|export|reset|inventory|status` as the service does them.

Each runs on the service's robot thread (`LeaseManager.run_motion`), so it never collides
with a scheduled motion, and refuses to touch a drive that a client holds (the background
scrub gives its drive up to a command, which waits for that). The scheduler is
told what the drives hold afterwards, and the burn record follows the media (a disc
imported through the mail slot is identified by loading it and reading its label).
"""

from __future__ import annotations

import time
from typing import Any

from odarchive.app.robot_ops import inventory_json, moved
from odarchive.app.service.leases import LeaseManager
from odarchive.app.service.motions import MotionError
from robot_drivers import errors
from robot_drivers.interfaces import BLANK, DRIVE_EMPTY, EMPTY

SCRUB_GIVES_WAY_S = 10.0


class DriveLeased(MotionError):
    """The drive (or the disc) is held by a client now."""


class RobotActions:
    def __init__(self, leases: LeaseManager) -> None:
        self.leases = leases
        self.motions = leases.motions
        self.robot = leases.motions.robot
        self.ctx = leases.motions.ctx

    def _check_free(self, drive: int) -> None:
        """DriveLeased if a client holds `drive`. The background scrub gives a drive up to a
        robot command (it stops after the block it reads): that is waited for, up to
        SCRUB_GIVES_WAY_S."""
        deadline = time.monotonic() + SCRUB_GIVES_WAY_S
        while True:
            with self.leases.lock:
                d = self.leases.scheduler.drives.get(drive)
                scrubbing = d is not None and bool(d.leases) and all(x.background for x in d.leases)
            if not scrubbing or time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        with self.leases.lock:
            d = self.leases.scheduler.drives.get(drive)
            if d is not None and (d.leases or d.motion):
                who = ", ".join(x.client for x in d.leases) or d.motion
                raise DriveLeased(
                    f"drive {drive} is in use ({who})", hint="try again when it is done, or use another drive"
                )

    def _sync(self, drive: int) -> None:
        """Tell the scheduler what `drive` holds now (a disc of ours by its label)."""
        from odarchive.app.robot_config import disc_from_label

        info = self.robot.changer.inventory().drive(drive)
        disc = None
        if info.state != DRIVE_EMPTY and drive in self.robot.drives:
            try:
                disc = disc_from_label(self.robot.drives[drive].volume_label())
            except errors.RobotError:
                disc = None
        with self.leases.lock:
            self.leases.scheduler.set_contents(drive, disc, info.state != DRIVE_EMPTY, self.leases.clock())
            self.leases.scheduler.drives[drive].fault = None

    def load(self, slot: int, drive: int) -> dict[str, Any]:
        self._check_free(drive)
        self.robot.changer.load(slot, drive)
        self.motions.slot_of_drive[drive] = slot
        self._sync(drive)
        return {"loaded": slot, "drive": drive}

    def unload(self, drive: int, slot: int | None) -> dict[str, Any]:
        from odarchive.app.robot_ops import unload

        self._check_free(drive)
        dest = unload(self.ctx, self.robot, drive, slot)
        self.motions.slot_of_drive.pop(drive, None)
        self._sync(drive)
        return {"unloaded": drive, "slot": dest}

    def import_disc(self, slot: int, mail: int) -> dict[str, Any]:
        self.robot.changer.import_disc(slot, mail)
        moved(self.ctx, None, slot)
        disc = self._identify(slot)
        return {"imported": slot, "mail": mail, "disc": disc}

    def _identify(self, slot: int) -> int | None:
        """Load a recorded medium just imported into a free drive, read its label, put it
        back, and record its slot: a disc of ours handed out and brought back is found again."""
        inventory = self.robot.changer.inventory()
        if inventory.slot(slot).state in (BLANK, EMPTY):
            return None
        with self.leases.lock:
            free = [n for n, d in self.leases.scheduler.drives.items() if d.free and not d.occupied]
        if not free:
            return None
        drive = free[0]
        self.robot.changer.load(slot, drive)
        try:
            dev = self.robot.drives[drive]
            dev.wait_for_media(self.robot.config.media_timeout_s)
            label = dev.volume_label()
        finally:
            self.robot.drives[drive].eject()
            self.robot.changer.unload(drive, slot)
        self.motions.shelved(label, slot)
        from odarchive.app.robot_config import disc_from_label

        return disc_from_label(label)

    def export_disc(self, slot: int, mail: int, location: str | None = None) -> dict[str, Any]:
        """Hand out the disc in `slot`; the catalogue keeps `location` (where a person puts it)."""
        inventory = self.robot.changer.inventory()
        in_drive = [d.drive for d in inventory.drives if d.loaded_from_slot == slot and d.state != DRIVE_EMPTY]
        for drive in in_drive:  # the disc is in a drive: put it back first (unless someone reads it)
            self._check_free(drive)
            self.unload(drive, slot)
        self.robot.changer.export_disc(slot, mail)
        moved(self.ctx, slot, None, location)
        return {"exported": slot, "mail": mail, "location": location}

    def reset(self) -> dict[str, Any]:
        """Clear the changer's fault, then reconcile the drives that were out (a disc left in
        a drive by a jam is recorded in its slot, a medium burned part-way is put away)."""
        self.robot.changer.reset()
        self.motions.bad_slots.clear()
        with self.leases.lock:
            idle = [n for n, d in self.leases.scheduler.drives.items() if not d.leases]
        held = self.motions.reconcile(only=idle)
        with self.leases.lock:
            now = self.leases.clock()
            self.leases.scheduler.reset_faults(now)
            for drive, disc in held.items():
                self.leases.scheduler.set_contents(drive, disc, disc is not None, now)
            self.leases.kick()
        return {"reset": True}

    def inventory(self) -> dict[str, Any]:
        """The changer's inventory with disc numbers; a loaded drive nobody holds whose disc
        the changer cannot name (a disc burned, then stuck by a jam) is asked for its label."""
        from odarchive.app.robot_config import disc_from_label

        out = inventory_json(self.ctx, self.robot.changer.inventory())
        for d in out["drives"]:
            if d["state"] != "loaded" or d["disc"] is not None or d["drive"] not in self.robot.drives:
                continue
            try:
                self._check_free(d["drive"])
                d["label"] = self.robot.drives[d["drive"]].volume_label()
            except errors.RobotError:  # held by a client, or unreadable: left as the changer says
                continue
            d["disc"] = disc_from_label(d["label"])
        return out

    def status(self) -> dict[str, Any]:
        from odarchive.app.robot_ops import robot_status

        return robot_status(self.ctx, self.robot)
