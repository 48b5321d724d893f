"""The serial driver for bin autoloaders speaking the single-character "generic" dialect.

Commands are one character (`I` input bin -> drive, `A` drive -> output bin, `G` drive ->
picker, `R` picker -> reject bin, `C` calibrate/reset, `S` status, `V` version) and each motion
is answered once it is over: `X` done or `E` failed; `S` then tells why (`J` jam, `M` source
empty, `F` destination occupied, `N` drive not ready, `B` busy, `X` ready).

Such a machine has bins, not numbered slots, and cannot report what it holds, so this driver
maps the `Changer` interface onto three pseudo-slots (1 input, 2 output, 3 reject) and
remembers whether its drive is loaded (`unknown` after a motion whose outcome was lost: unload
then tells, failing harmlessly if the drive was empty). When a reply is lost or garbled it waits until `S`
says ready: the dialect cannot say whether the motion ran, so the driver then assumes it did
(`X`) or reports the reason. Documented in docs/robot-protocols.md.
"""

from __future__ import annotations

import threading
import time

from robot_drivers import errors
from robot_drivers.interfaces import (
    DRIVE_EMPTY,
    DRIVE_LOADED,
    DRIVE_UNKNOWN,
    FULL,
    SLOT_KIND_BIN,
    UNKNOWN,
    DriveInfo,
    Inventory,
    SlotInfo,
)
from robot_drivers.serial_link import SerialLink

BIN_INPUT, BIN_OUTPUT, BIN_REJECT = 1, 2, 3
BIN_NAMES = {BIN_INPUT: "input", BIN_OUTPUT: "output", BIN_REJECT: "reject"}

REASONS: dict[bytes, tuple[type[errors.RobotError], str]] = {
    b"J": (errors.Jam, "the mechanism jammed; reset required"),
    b"M": (errors.EmptySlot, "the source (bin, drive or picker) is empty"),
    b"F": (errors.SlotFull, "the destination is occupied"),
    b"N": (errors.DriveNotReady, "the drive is not ready"),
    b"E": (errors.MechanismFault, "the autoloader reported an error"),
}
WHAT = {
    b"I": "input bin -> drive",
    b"A": "drive -> output bin",
    b"G": "drive -> picker",
    b"R": "picker -> reject bin",
    b"C": "calibrate",
}


class GenericChanger:
    def __init__(
        self, link: SerialLink, reply_timeout_s: float = 2.0, motion_timeout_s: float = 120.0, retries: int = 3
    ) -> None:
        self.link = link
        self.reply_timeout_s = reply_timeout_s
        self.motion_timeout_s = motion_timeout_s
        self.retries = retries
        self._lock = threading.Lock()
        self.loaded: bool | None = False  # the dialect cannot ask the drive; None: not known

    def _status(self, deadline: float) -> bytes:
        """`S` until the machine is not busy; resynchronises on garbage; bounded by `deadline`."""
        for _ in range(self.retries + 1):
            try:
                self.link.write(b"S")
                reply = self.link.read_byte(self.reply_timeout_s)
            except errors.CommunicationError:
                self.link.reopen()
                continue
            if reply == b"B" and time.monotonic() < deadline:
                time.sleep(0.02)
                return self._status(deadline)
            if reply in (b"X", *REASONS):
                return reply
            self.link.flush_input()
        raise errors.CommunicationTimeout(f"autoloader on {self.link.device} gives no valid status")

    def _raise(self, reason: bytes, command: bytes) -> None:
        cls, meaning = REASONS.get(reason, REASONS[b"E"])
        raise cls(f"autoloader failed `{command.decode()}` ({WHAT[command]}): {meaning}")

    def _motion(self, command: bytes) -> None:
        try:
            self._motion_once(command)
        except errors.CommunicationError:
            self.loaded = None  # the motion may or may not have happened
            raise

    def _motion_once(self, command: bytes) -> None:
        deadline = time.monotonic() + self.motion_timeout_s
        with self._lock:
            try:
                self.link.write(command)
                reply = self.link.read_byte(self.motion_timeout_s)
            except errors.CommunicationError:
                self.link.reopen()
                reply = None
            if reply == b"X":
                return
            if reply == b"E":
                self._raise(self._status(deadline), command)
            self.link.flush_input()  # lost or garbled: ask the status
            status = self._status(deadline)
            if status != b"X":
                self._raise(status, command)

    def version(self) -> str:
        with self._lock:
            self.link.write(b"V")
            line = self.link.read_until(b"\r", self.reply_timeout_s)
        if not line:
            raise errors.CommunicationTimeout(f"autoloader on {self.link.device}: no answer to `V`")
        return line.decode("ascii", "replace")

    def inventory(self) -> Inventory:
        with self._lock:
            status = self._status(time.monotonic() + self.motion_timeout_s)
        bins = tuple(SlotInfo(n, UNKNOWN, kind=SLOT_KIND_BIN, name=name) for n, name in BIN_NAMES.items())
        state = DRIVE_UNKNOWN if self.loaded is None else DRIVE_LOADED if self.loaded else DRIVE_EMPTY
        drive = DriveInfo(
            0, state, loaded_from_slot=BIN_INPUT if self.loaded else None, medium=FULL if self.loaded else None
        )
        if status == b"J":
            raise errors.Jam("the autoloader reports a jam", hint="clear it, then `odarchive robot reset`")
        return Inventory(slots=bins, drives=(drive,))

    def load(self, slot: int = BIN_INPUT, drive: int = 0) -> None:
        if slot != BIN_INPUT or drive != 0:
            raise errors.BadAddress(f"a bin autoloader loads only from the input bin (slot {BIN_INPUT}) into drive 0")
        self._motion(b"I")
        self.loaded = True

    def unload(self, drive: int = 0, slot: int | None = None) -> int:
        slot = slot or BIN_OUTPUT
        if drive != 0 or slot not in (BIN_OUTPUT, BIN_REJECT):
            raise errors.BadAddress(
                f"a bin autoloader unloads drive 0 to the output ({BIN_OUTPUT}) or reject ({BIN_REJECT}) bin"
            )
        if slot == BIN_OUTPUT:
            self._motion(b"A")
        else:
            self._motion(b"G")
            self.loaded = False
            self._motion(b"R")
        self.loaded = False
        return slot

    def transfer(self, source_slot: int, dest_slot: int) -> None:
        raise errors.BadAddress("a bin autoloader cannot move discs between bins")

    def import_disc(self, slot: int, mail_slot: int = 1) -> None:
        raise errors.BadAddress("a bin autoloader has no mail slot: put discs into the input bin")

    def export_disc(self, slot: int, mail_slot: int = 1) -> None:
        raise errors.BadAddress("a bin autoloader has no mail slot: take discs from the output bin")

    def reset(self) -> None:
        self._motion(b"C")

    def close(self) -> None:
        self.link.close()
