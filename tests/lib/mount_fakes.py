"""A fake robot for the mount's unit tests: a changer with drives over image files.

`FakeRobot` loads with a delay (one picker: loads are serialised), reads with a delay, records every load and read, and can jam (raising, or
hanging until `released` is set) or fail reads, so the fetcher's `RobotSource` path can be
tested in-process without the serial simulator.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from robot_drivers.errors import EmptySlot, Jam, UnreadableDisc
from robot_drivers.interfaces import (
    DRIVE_EMPTY,
    DRIVE_LOADED,
    RECORDED,
    DriveInfo,
    Inventory,
    SlotInfo,
)


class FakeDrive:
    def __init__(self, robot: FakeRobot, n: int) -> None:
        self.name = f"fake{n}"
        self._robot = robot
        self._n = n

    def wait_for_media(self, timeout_s: float) -> None:
        pass

    def medium_size(self) -> int:
        return self._path().stat().st_size

    def volume_label(self) -> str | None:
        return self._robot.labels[self._robot.in_drive[self._n]]  # type: ignore[index]

    def _path(self) -> Path:
        slot = self._robot.in_drive[self._n]
        if slot is None:
            raise UnreadableDisc(f"drive {self._n} is empty")
        return self._robot.images[slot]

    def read(self, offset: int, length: int) -> bytes:
        if self._robot.unreadable:
            raise UnreadableDisc(f"drive {self._n}: read error at {offset}")
        robot = self._robot
        with robot._lock:
            robot.reads.append((robot.in_drive[self._n] or 0, offset))
            robot.active += 1
            robot.max_active = max(robot.max_active, robot.active)
        try:
            time.sleep(robot.read_s)
            with open(self._path(), "rb") as f:
                f.seek(offset)
                return f.read(length)
        finally:
            with robot._lock:
                robot.active -= 1

    def burn(self, image_path: Path, progress_cb=None) -> None:  # pragma: no cover - not used by the mount
        raise NotImplementedError

    def eject(self) -> None:
        pass


class FakeRobot:
    """A changer with `drives` drives; slot s (from 1) holds the disc with labels[s]."""

    def __init__(
        self,
        images: dict[int, Path],
        labels: dict[int, str],
        drives: int = 1,
        load_s: float = 0.05,
        read_s: float = 0.0,
    ) -> None:
        self.images, self.labels, self.load_s, self.read_s = images, labels, load_s, read_s
        self.in_drive: list[int | None] = [None] * drives
        self.jammed = self.jam_hangs = self.unreadable = False
        self.released = threading.Event()  # set to end a hanging jam
        self.reads: list[tuple[int, int]] = []  # (slot, image offset) of every read
        self.loads: list[int] = []
        self.active = self.max_active = 0  # reads in progress now / at most at once
        self.drives = [FakeDrive(self, n) for n in range(drives)]
        self._lock = threading.Lock()
        self._picker = threading.Lock()  # one picker: loads are serialised

    def inventory(self) -> Inventory:
        slots = tuple(SlotInfo(s, RECORDED, label) for s, label in self.labels.items() if s not in self.in_drive)
        drives = tuple(
            DriveInfo(n, DRIVE_LOADED if s is not None else DRIVE_EMPTY, s, self.labels.get(s) if s else None)
            for n, s in enumerate(self.in_drive)
        )
        return Inventory(slots, drives)

    def loading(self) -> bool:
        """A load is under way (the picker is busy)."""
        return self._picker.locked()

    def load(self, slot: int, drive: int = 0) -> None:
        with self._picker:
            if self.jammed:
                if self.jam_hangs:
                    self.released.wait(60)
                raise Jam(f"picker jammed loading slot {slot}")
            if slot not in self.images or slot in self.in_drive:
                raise EmptySlot(f"slot {slot} is empty")
            time.sleep(self.load_s)
            self.in_drive[drive] = slot
            self.loads.append(slot)

    def unload(self, drive: int = 0, slot: int | None = None) -> int:
        with self._lock:
            s = self.in_drive[drive]
            self.in_drive[drive] = None
            return s or 0

    def transfer(self, source_slot: int, dest_slot: int) -> None:
        raise NotImplementedError

    def import_disc(self, slot: int, mail_slot: int = 1) -> None:
        raise NotImplementedError

    def export_disc(self, slot: int, mail_slot: int = 1) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        self.jammed = False

    def close(self) -> None:
        pass
