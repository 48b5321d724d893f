"""The manual driver: one drive and a person who inserts and removes discs when asked.

`load(slot)` asks for disc `slot` ("insert disc 7 (label ODA1a2b3c4d_0007) into /dev/sr0"),
waits for the drive to see a medium (udev: `ID_CDROM_MEDIA`, `DISK_MEDIA_CHANGE`, through the
drive's probe) and checks the medium's volume label before anyone uses it; a wrong disc is
ejected and reported (WrongDisc). `BLANK_SLOT` (0) asks for any blank medium. How the person
is asked is injected (`prompt(text)`, and `prompt(None)` once a request is satisfied): the
command line prints it and shows it in `robot status`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from robot_drivers import errors
from robot_drivers.interfaces import (
    BLANK,
    DRIVE_EMPTY,
    DRIVE_LOADED,
    SLOT_KIND_BIN,
    Drive,
    DriveInfo,
    Inventory,
    SlotInfo,
)

BLANK_SLOT = 0


class ManualChanger:
    def __init__(
        self,
        drive: Drive,
        prompt: Callable[[str | None], None],
        expected_label: Callable[[int], str | None],
        media_timeout_s: float = 600.0,
    ) -> None:
        self.drive = drive
        self.prompt = prompt
        self.expected_label = expected_label
        self.media_timeout_s = media_timeout_s
        self.loaded_slot: int | None = None
        self._lock = threading.Lock()

    def inventory(self) -> Inventory:
        state = DRIVE_LOADED if self.loaded_slot is not None else DRIVE_EMPTY
        drive = DriveInfo(0, state, loaded_from_slot=self.loaded_slot)
        blanks = SlotInfo(BLANK_SLOT, BLANK, kind=SLOT_KIND_BIN, name="input")  # "a blank, please"
        return Inventory(slots=(blanks,), drives=(drive,))

    def load(self, slot: int, drive: int = 0) -> None:
        if drive != 0:
            raise errors.BadAddress("the manual driver has one drive (0)")
        with self._lock:
            if self.loaded_slot is not None:
                raise errors.SlotFull(f"disc {self.loaded_slot} is still in {self.drive.name}; unload it first")
            expected = None if slot == BLANK_SLOT else self.expected_label(slot)
            if slot == BLANK_SLOT:
                self.prompt(f"insert a blank disc into {self.drive.name}")
            else:
                self.prompt(f"insert disc {slot} (label {expected or 'unknown'}) into {self.drive.name}")
            self.drive.wait_for_media(self.media_timeout_s)
            self._check_identity(slot, expected)
            self.loaded_slot = slot
            self.prompt(None)  # the request is satisfied

    def _check_identity(self, slot: int, expected: str | None) -> None:
        actual = self.drive.volume_label()
        if slot == BLANK_SLOT:
            if self.drive.medium_size() != 0:
                self.drive.eject()
                raise errors.WrongDisc(
                    f"the disc in {self.drive.name} is not blank (label {actual})", hint="insert a blank disc"
                )
        elif expected is not None and actual != expected:
            self.drive.eject()
            raise errors.WrongDisc(
                f"{self.drive.name} holds {actual or 'an unlabelled disc'}, not disc {slot} ({expected}); ejected",
                hint=f"insert the disc labelled {expected}",
            )

    def unload(self, drive: int = 0, slot: int | None = None) -> int:
        with self._lock:
            if self.loaded_slot is None:  # not loaded by us (another process): is there a disc?
                try:
                    self.drive.wait_for_media(0.0)
                except errors.RobotError:
                    raise errors.EmptySlot(f"{self.drive.name} holds no disc") from None
            done, self.loaded_slot = self.loaded_slot, None
            self.drive.eject()
            what = "the disc" if done is None else "the burned disc" if done == BLANK_SLOT else f"disc {done}"
            self.prompt(f"take {what} out of {self.drive.name}")
            return slot if slot is not None else done if done is not None else BLANK_SLOT

    def transfer(self, source_slot: int, dest_slot: int) -> None:
        raise errors.BadAddress("the manual driver has no slots to move discs between")

    def import_disc(self, slot: int, mail_slot: int = 1) -> None:
        raise errors.BadAddress("the manual driver has no mail slot")

    def export_disc(self, slot: int, mail_slot: int = 1) -> None:
        raise errors.BadAddress("the manual driver has no mail slot")

    def reset(self) -> None:
        self.loaded_slot = None

    def close(self) -> None:
        pass
