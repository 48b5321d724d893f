"""The serial driver for slot changers speaking the CR-terminated dialect (`slot_protocol`).

Queries (`?N`, `?I`, `?M`, `?D`) are answered with one line. A motion is acknowledged (`A`)
and completed later (`C` or `Exx`); while waiting, the driver polls `?B` whenever the line has
been quiet for `reply_timeout_s`. When a reply is lost or garbled the driver resynchronises
(discards input until the line is quiet), polls `?B` until the changer is idle and asks `?E`
which motion ran last and how it ended, so a motion is never sent twice and never assumed
done. Everything is bounded: `retries` attempts per exchange, `reply_timeout_s` per line,
`motion_timeout_s` per motion. A port that vanishes is reopened (`SerialLink`).
"""

from __future__ import annotations

import re
import threading
import time

from robot_drivers import errors
from robot_drivers import slot_protocol as P
from robot_drivers.interfaces import (
    BLANK,
    DRIVE_EMPTY,
    DRIVE_LOADED,
    DRIVE_NOT_READY,
    EMPTY,
    FULL,
    RECORDED,
    SLOT_KIND_MAIL,
    DriveInfo,
    Inventory,
    SlotInfo,
)
from robot_drivers.serial_link import SerialLink

LETTERS = {P.SLOT_EMPTY: EMPTY, P.SLOT_FULL: FULL, P.SLOT_BLANK: BLANK, P.SLOT_RECORDED: RECORDED}
ERROR_LINE = re.compile(r"^E\d\d$")


class SlotChanger:
    def __init__(
        self,
        link: SerialLink,
        reply_timeout_s: float = 2.0,
        motion_timeout_s: float = 120.0,
        retries: int = 3,
    ) -> None:
        self.link = link
        self.reply_timeout_s = reply_timeout_s
        self.motion_timeout_s = motion_timeout_s
        self.retries = retries
        self._lock = threading.Lock()
        self._geometry: tuple[int, int, int] | None = None

    # ---- line exchange ------------------------------------------------------------------

    def _send(self, command: str) -> None:
        self.link.write(command.encode("ascii") + P.CR)

    def _line(self, timeout_s: float) -> str | None:
        raw = self.link.read_until(P.CR, timeout_s)
        if raw is None:
            return None
        return raw.decode("ascii", "replace").strip()

    def _exchange(self, command: str, pattern: str) -> str:
        """Send a query and return the reply matching `pattern`, retrying on loss or garbage."""
        what = "no reply"
        for _ in range(self.retries + 1):
            try:
                self._send(command)
                line = self._line(self.reply_timeout_s)
            except errors.CommunicationError as e:
                what = str(e)
                self.link.reopen()
                continue
            if line is not None and re.fullmatch(pattern, line):
                return line
            if line is not None and ERROR_LINE.match(line) and line != "E03":
                raise P.error_for(line, command)
            what = "no reply" if line is None else f"unexpected reply {line!r}"
            self.link.flush_input()
            if line == "E03":
                time.sleep(0.05)
        error = errors.CommunicationTimeout if what == "no reply" else errors.GarbledReply
        raise error(f"changer on {self.link.device}: {what} to `{command}` after {self.retries + 1} attempts")

    def _wait_idle(self, deadline: float) -> None:
        while True:
            if self._exchange("?B", "[BR]") == P.READY:
                return
            if time.monotonic() >= deadline:
                raise errors.CommunicationTimeout(f"changer on {self.link.device} still busy after the motion timeout")
            time.sleep(0.02)

    def _outcome(self, command: str, deadline: float) -> bool:
        """After a lost reply: True if `command` ran and succeeded, False if it never arrived."""
        self.link.flush_input()
        self._wait_idle(deadline)
        reply = self._exchange("?E", r"L E\d\d.*")
        _, code, last = ([*reply.split(" ", 2), ""])[:3]
        if last.strip() != command:
            return False
        if code != P.OK_CODE:
            raise P.error_for(code, command)
        return True

    def _motion(self, command: str) -> None:
        deadline = time.monotonic() + self.motion_timeout_s
        with self._lock:
            for _ in range(self.retries + 1):
                try:
                    self._send(command)
                    ack = self._line(self.reply_timeout_s)
                    if ack == "E03":  # another motion still running: wait, then send again
                        self._wait_idle(deadline)
                        continue
                    if ack is not None and ERROR_LINE.match(ack):
                        raise P.error_for(ack, command)
                    if ack == P.ACK and self._completion(command, deadline):
                        return
                    if self._outcome(command, deadline):
                        return
                except errors.CommunicationError as e:
                    if isinstance(e, (errors.CommunicationTimeout, errors.GarbledReply)):
                        raise
                    self.link.reopen()  # the port came back: did the motion run before it went?
                    if self._outcome(command, deadline):
                        return
            raise errors.CommunicationError(
                f"changer on {self.link.device} did not take `{command}` after {self.retries + 1} attempts"
            )

    def _completion(self, command: str, deadline: float) -> bool:
        """Wait for `C`/`Exx` after `A`, polling `?B` whenever the line is quiet for a while.

        True: completed. Raises the motion's error. False: the changer is idle but its
        completion line was lost or garbled (the caller asks `?E`).
        """
        while time.monotonic() < deadline:
            line = self._line(min(self.reply_timeout_s, max(0.0, deadline - time.monotonic())))
            if line is None or not (line == P.DONE or ERROR_LINE.match(line)):
                if line is not None:
                    self.link.flush_input()
                self._send("?B")
                line = self._line(self.reply_timeout_s)
                if line == P.BUSY:
                    continue
                if line == P.READY:
                    return False
                if line == P.DONE or (line is not None and ERROR_LINE.match(line)):
                    self._line(self.reply_timeout_s)  # the answer to ?B that follows
                else:
                    self.link.flush_input()
                    continue
            if line == P.DONE:
                return True
            raise P.error_for(line, command)
        raise errors.CommunicationTimeout(
            f"changer on {self.link.device}: `{command}` not done after {self.motion_timeout_s:.0f} s"
        )

    def _query(self, command: str, pattern: str) -> str:
        with self._lock:
            return self._exchange(command, pattern)

    # ---- Changer -------------------------------------------------------------------------

    def geometry(self) -> tuple[int, int, int]:
        """(slots, drives, mail slots)."""
        if self._geometry is None:
            _, slots, drives, mail = self._query("?N", r"N \d+ \d+ \d+").split()
            self._geometry = (int(slots), int(drives), int(mail))
        return self._geometry

    def version(self) -> str:
        return self._query("?V", r"V .*")[2:]

    def drive_info(self, drive: int) -> DriveInfo:
        parts = self._query(f"?D {drive}", rf"D {drive} (E|N|L \d+ [EFBR])").split()
        if parts[2] == "E":
            return DriveInfo(drive, DRIVE_EMPTY)
        if parts[2] == "N":
            return DriveInfo(drive, DRIVE_NOT_READY)
        return DriveInfo(drive, DRIVE_LOADED, loaded_from_slot=int(parts[3]) or None, medium=LETTERS[parts[4]])

    def inventory(self) -> Inventory:
        nslots, ndrives, nmail = self.geometry()
        slots: list[SlotInfo] = []
        for first in range(1, nslots + 1, P.INVENTORY_CHUNK):
            last = min(nslots, first + P.INVENTORY_CHUNK - 1)
            letters = self._query(f"?I {first} {last}", rf"I {first:03d} [EFBR]{{{last - first + 1}}}").split()[2]
            slots += [SlotInfo(first + i, LETTERS[c]) for i, c in enumerate(letters)]
        mail_letters = self._query("?M", rf"M [EFBR]{{{nmail}}}")[2:] if nmail else ""
        mail = tuple(SlotInfo(i + 1, LETTERS[c], kind=SLOT_KIND_MAIL) for i, c in enumerate(mail_letters))
        drives = tuple(self.drive_info(d) for d in range(ndrives))
        return Inventory(slots=tuple(slots), drives=drives, mail=mail)

    def load(self, slot: int, drive: int = 0) -> None:
        self._motion(f"PL {slot:03d} {drive}")

    def unload(self, drive: int = 0, slot: int | None = None) -> int:
        if slot is None:
            info = self.drive_info(drive)
            if info.state != DRIVE_LOADED:
                raise errors.EmptySlot(f"drive {drive} is empty")
            slot = info.loaded_from_slot
            if slot is None:
                raise errors.BadAddress(
                    f"drive {drive} does not know which slot its disc came from",
                    hint="give the slot: `odarchive robot unload --drive N --slot S`",
                )
        self._motion(f"PU {drive} {slot:03d}")
        return slot

    def transfer(self, source_slot: int, dest_slot: int) -> None:
        self._motion(f"PT {source_slot:03d} {dest_slot:03d}")

    def import_disc(self, slot: int, mail_slot: int = 1) -> None:
        self._motion(f"PI {mail_slot} {slot:03d}")

    def export_disc(self, slot: int, mail_slot: int = 1) -> None:
        self._motion(f"PE {slot:03d} {mail_slot}")

    def reset(self) -> None:
        self._motion("RS")

    def close(self) -> None:
        self.link.close()
