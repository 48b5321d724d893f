"""Where the fetcher gets disc bytes: the `DiscSource` Protocol and its two implementations.

- `ImageDirSource`: a directory of disc images (`--images DIR`), for users without a robot
  or with images on a NAS. "Loading" a disc opens its image file in a pseudo-drive.
- `RobotSource`: a changer and its drives from `robot_drivers`, owned by the mount itself;
  the slot of a disc is the one the catalogue recorded at burn time, then the slots of its
  copies (sets B, ...) when it cannot be loaded or read, else found by its volume label in
  the inventory. (`odarchive mount` reads through the archive service instead:
  `odarchive.app.service_source`, a source of leases; the service tries the copies.)

Threads: the fetcher runs one worker per drive, and only that worker calls `load` and `read`
for its drive; `status` may be called from any thread. Errors: `DiscUnavailable` (or a
`robot_drivers.errors.RobotError`, which the fetcher turns into one).
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from fuse_mount.catalogue_view import Disc
from fuse_mount.errors import DiscUnavailable
from robot_drivers.errors import RobotError
from robot_drivers.interfaces import DRIVE_EMPTY, Changer, Drive

log = logging.getLogger(__name__)


class DiscSource(Protocol):
    def drive_count(self) -> int:
        """How many drives may be used at once (one fetcher worker each)."""

    def loaded(self, drive: int) -> int | None:
        """The disc id in `drive`, if the source knows it."""

    def load(self, drive: int, disc: Disc) -> None:
        """Make `disc` readable in `drive` (unloading what was there)."""

    def read(self, drive: int, offset: int, length: int) -> bytes:
        """Exactly `length` bytes at image byte `offset` of the disc in `drive`. (A source may
        also have `read_into(drive, offset, buffer)`, filling a memoryview instead: the fetcher
        then reads large jobs into reused buffers.)"""

    def release(self, drive: int) -> None:
        """The worker of `drive` is done with its disc for now (a leased drive goes back)."""

    def status(self) -> dict[str, Any]:
        """What `odarchive status` shows about the discs source (kind, drives)."""

    def close(self) -> None: ...


def loads_are_free(source: DiscSource) -> bool:
    """Whether loading a disc costs nothing (an image file is opened), so the fetcher need
    not gather requests before a load; a wrapper (`fuse_mount.rescue`) says what it wraps."""
    return bool(getattr(source, "free_loads", False))


class ImageDirSource:
    """Discs as image files in one directory, found by image name or `<label>.iso`."""

    free_loads = True  # "loading" opens a file: see `loads_are_free`

    def __init__(self, directory: Path, drives: int = 2) -> None:
        if not directory.is_dir():
            raise DiscUnavailable(
                f"image directory {directory} does not exist", hint="pass --images DIR of the disc images"
            )
        self._dir = directory
        self._lock = threading.Lock()
        self._fds: list[int | None] = [None] * drives
        self._direct: list[int | None] = [None] * drives  # the same image opened with O_DIRECT, if it can be
        self._discs: list[int | None] = [None] * drives

    def _path(self, disc: Disc) -> Path:
        names = [n for n in (disc.image_name, f"{disc.label}.iso") if n]
        for name in names:
            path = self._dir / name
            if path.exists() and not path.is_dir():  # a file, or a device or pipe that stands for one
                return path
        raise DiscUnavailable(f"disc {disc.id} ({disc.label}): no image {' or '.join(names)} in {self._dir}")

    def drive_count(self) -> int:
        return len(self._fds)

    def loaded(self, drive: int) -> int | None:
        return self._discs[drive]

    def load(self, drive: int, disc: Disc) -> None:
        path = self._path(disc)
        fd = os.open(path, os.O_RDONLY)
        direct: int | None
        try:
            direct = os.open(path, os.O_RDONLY | os.O_DIRECT)
        except OSError:  # a file system without direct I/O (tmpfs): buffered reads only
            direct = None
        with self._lock:
            old = self._fds[drive], self._direct[drive]
            self._fds[drive], self._direct[drive], self._discs[drive] = fd, direct, disc.id
        for f in old:
            if f is not None:
                os.close(f)

    def release(self, drive: int) -> None:
        """Images stay open: reopening one costs nothing, keeping it costs nothing either."""

    def read(self, drive: int, offset: int, length: int) -> bytes:
        fd = self._fds[drive]
        if fd is None:
            raise DiscUnavailable(f"no disc in image drive {drive}")
        data = os.pread(fd, length, offset)
        if len(data) != length:
            raise DiscUnavailable(f"disc {self._discs[drive]}: image too short at byte {offset}")
        return data

    def read_into(self, drive: int, offset: int, buffer: memoryview) -> None:
        """Fill `buffer` with the bytes at image byte `offset` (the fetcher's reused buffers:
        no new memory per read). Where offset, length and memory are aligned (`DIRECT_ALIGN`;
        the fetcher's buffers are page-aligned, a chunk starts on a sector), the image is read
        with O_DIRECT: into the buffer without passing through the page cache (the bytes go
        to the mount's cache anyway), which costs the CPU a copy and the page cache's upkeep
        per byte; the rest (a file's last bytes) is read as usual."""
        fd, direct = self._fds[drive], self._direct[drive]
        if fd is None:
            raise DiscUnavailable(f"no disc in image drive {drive}")
        done = 0
        aligned = len(buffer) - len(buffer) % DIRECT_ALIGN
        if direct is not None and aligned and offset % DIRECT_ALIGN == 0 and _address(buffer) % DIRECT_ALIGN == 0:
            try:
                done = _read_fully(direct, buffer[:aligned], offset)
            except OSError as e:
                if e.errno != errno.EINVAL:  # EINVAL: this file system wants other alignment
                    raise
        if _read_fully(fd, buffer[done:], offset + done) < len(buffer) - done:
            raise DiscUnavailable(f"disc {self._discs[drive]}: image too short at byte {offset}")

    def status(self) -> dict[str, Any]:
        return {
            "kind": "images",
            "directory": str(self._dir),
            "drives": [{"drive": i, "disc": d} for i, d in enumerate(self._discs)],
        }

    def close(self) -> None:
        with self._lock:
            for fd in self._fds + self._direct:
                if fd is not None:
                    os.close(fd)
            self._fds = [None] * len(self._fds)
            self._direct = [None] * len(self._direct)
            self._discs = [None] * len(self._discs)


DIRECT_ALIGN = 512
"""Offsets, lengths and memory of direct reads are multiples of this (the logical block size
of most disks; where a file system wants more, its EINVAL makes the read a buffered one)."""


def _address(buffer: memoryview) -> int:
    """Where the bytes of a writable buffer are in memory."""
    return ctypes.addressof(ctypes.c_char.from_buffer(buffer))


def _read_fully(fd: int, buffer: memoryview, offset: int) -> int:
    """Read into `buffer` from `offset` until it is full or the file ends; the bytes read."""
    done = 0
    while done < len(buffer):
        n = os.preadv(fd, [buffer[done:]], offset + done)
        if n == 0:
            break
        done += n
    return done


class RobotSource:
    """Discs in a changer's slots, read through its drives (`robot_drivers`)."""

    def __init__(self, changer: Changer, drives: Sequence[Drive], *, ready_timeout_s: float = 60.0) -> None:
        self._changer = changer
        self._drives = list(drives)
        self._ready_timeout_s = ready_timeout_s
        self._lock = threading.Lock()
        self._slots: dict[str, int] = {}
        self._in_drive: list[int | None] = [None] * len(self._drives)
        self._faults: list[str | None] = [None] * len(self._drives)
        self._cleared = False  # drives emptied of discs left from before the mount
        self._clear_lock = threading.Lock()

    def _slots_of(self, disc: Disc) -> list[int]:
        """The slots to try for `disc`: its own, then its copies' (the catalogue's record);
        else the slot whose label the changer reports."""
        slots = ([disc.slot] if disc.slot is not None else []) + list(disc.copy_slots)
        return slots or [self._slot_by_label(disc)]

    def _slot_by_label(self, disc: Disc) -> int:
        with self._lock:
            slot = self._slots.get(disc.label)
        if slot is None:  # re-read the inventory: the disc may have been shelved since
            inventory = self._changer.inventory()
            slots = {s.label: s.slot for s in inventory.slots if s.label and s.occupied}
            with self._lock:
                self._slots = slots
            slot = slots.get(disc.label)
        if slot is None:
            kept = f"; it is kept at {disc.location}" if disc.location else ""
            raise DiscUnavailable(
                f"disc {disc.id} ({disc.label}) is in no slot of the changer{kept}",
                hint=f"insert disc {disc.id} into the robot (`odarchive robot import SLOT`)",
            )
        return slot

    def drive_count(self) -> int:
        return len(self._drives)

    def loaded(self, drive: int) -> int | None:
        return self._in_drive[drive]

    def _clear_drives_once(self) -> None:
        """Return discs left in our drives (by an earlier mount or a burn) to their slots,
        once, before the first load: then `_in_drive` knows every drive's disc."""
        with self._clear_lock:
            if self._cleared:
                return
            for info in self._changer.inventory().drives:
                if info.state != DRIVE_EMPTY and info.drive < len(self._drives):
                    self._drives[info.drive].eject()
                    self._changer.unload(info.drive)
            self._cleared = True

    def load(self, drive: int, disc: Disc) -> None:
        """Load `disc` into `drive`; when a copy cannot be had or read, the next copy is tried
        (and the log says which copy served)."""
        slots = self._slots_of(disc)
        for i, slot in enumerate(slots):
            try:
                self._load_slot(drive, disc, slot)
            except (DiscUnavailable, RobotError) as e:
                if i == len(slots) - 1:
                    raise
                log.warning(
                    "disc %d from slot %d failed (%s); trying its copy in slot %d", disc.id, slot, e, slots[i + 1]
                )
                self._empty(drive)
                continue
            if i:
                log.warning("disc %d served by its copy in slot %d", disc.id, slot)
            return

    def _empty(self, drive: int) -> None:
        """Put back whatever a failed load left in `drive` (to the slot it came from)."""
        if self._changer.inventory().drive(drive).state != DRIVE_EMPTY:
            self._drives[drive].eject()
            self._changer.unload(drive)

    def _load_slot(self, drive: int, disc: Disc, slot: int) -> None:
        try:
            self._clear_drives_once()
            if self._in_drive[drive] is not None:
                self._in_drive[drive] = None
                self._drives[drive].eject()
                self._changer.unload(drive)
            self._changer.load(slot, drive)
            self._drives[drive].wait_for_media(self._ready_timeout_s)
            label = self._drives[drive].volume_label()
            if label is not None and label != disc.label:
                raise DiscUnavailable(f"drive {drive} holds {label}, not disc {disc.id} ({disc.label})")
            self._drives[drive].read(16 * 2048, 2048)  # its volume descriptor: a disc that cannot be read fails here
        except Exception as e:
            self._faults[drive] = str(e)
            raise
        self._faults[drive] = None
        self._in_drive[drive] = disc.id

    def read(self, drive: int, offset: int, length: int) -> bytes:
        return self._drives[drive].read(offset, length)

    def release(self, drive: int) -> None:
        """The disc stays in its drive: the next read of it needs no load."""

    def status(self) -> dict[str, Any]:
        return {
            "kind": "robot",
            "drives": [
                {"drive": i, "name": d.name, "disc": self._in_drive[i], "fault": self._faults[i]}
                for i, d in enumerate(self._drives)
            ],
        }

    def close(self) -> None:
        self._changer.close()
