"""The mtx driver: SCSI media changers (large jukeboxes) through the `mtx` command.

Every operation runs `mtx -f DEVICE ...` (or the configured command, e.g. the simulator's
mtx front end) and parses what it prints (`mtx_parse`). Commands are serialised with a lock,
as the changer has one picker. `reset` runs `mtx inventory` (INITIALIZE ELEMENT STATUS).
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Sequence

from robot_drivers import errors
from robot_drivers.interfaces import DRIVE_LOADED, Inventory
from robot_drivers.mtx_parse import classify_failure, parse_status


class MtxChanger:
    def __init__(self, device: str, command: Sequence[str] = ("mtx",), timeout_s: float = 600.0) -> None:
        self.device = device
        self.command = list(command)
        self.timeout_s = timeout_s
        self._lock = threading.Lock()

    def _run(self, *args: object) -> str:
        argv = [*self.command, "-f", self.device, *(str(a) for a in args)]
        shown = "mtx " + " ".join(str(a) for a in args)
        with self._lock:
            try:
                done = subprocess.run(argv, capture_output=True, text=True, timeout=self.timeout_s)
            except FileNotFoundError:
                raise errors.CommunicationError(
                    f"`{self.command[0]}` is not installed", hint="install the `mtx` package"
                ) from None
            except subprocess.TimeoutExpired:
                raise errors.CommunicationTimeout(f"`{shown}` did not finish within {self.timeout_s:.0f} s") from None
        if done.returncode != 0:
            raise classify_failure(done.stderr or done.stdout, shown)
        return done.stdout

    def inventory(self) -> Inventory:
        return parse_status(self._run("status"))

    def load(self, slot: int, drive: int = 0) -> None:
        self._run("load", slot, drive)

    def unload(self, drive: int = 0, slot: int | None = None) -> int:
        if slot is None:
            info = self.inventory().drive(drive)
            if info.state != DRIVE_LOADED:
                raise errors.EmptySlot(f"`mtx unload` not run: drive {drive} is empty")
            if info.loaded_from_slot is None:
                raise errors.BadAddress(
                    f"drive {drive} does not know which slot its disc came from",
                    hint="give the slot: `odarchive robot unload --drive N --slot S`",
                )
            slot = info.loaded_from_slot
        self._run("unload", slot, drive)
        return slot

    def transfer(self, source_slot: int, dest_slot: int) -> None:
        self._run("transfer", source_slot, dest_slot)

    def _mail_element(self, mail_slot: int) -> int:
        mail = self.inventory().mail
        if not 1 <= mail_slot <= len(mail):
            raise errors.BadAddress(f"no import/export slot {mail_slot} (this changer has {len(mail)})")
        return mail[mail_slot - 1].slot

    def import_disc(self, slot: int, mail_slot: int = 1) -> None:
        self.transfer(self._mail_element(mail_slot), slot)

    def export_disc(self, slot: int, mail_slot: int = 1) -> None:
        self.transfer(slot, self._mail_element(mail_slot))

    def reset(self) -> None:
        self._run("inventory")

    def close(self) -> None:
        pass
