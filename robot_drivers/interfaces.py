"""The interfaces the rest of odarchive codes against: `Changer`, `Drive` and the inventory.

A **changer** moves discs between storage slots, drives and import/export (mail) slots or
bins; it knows nothing about what is on a disc. A **drive** reads and burns the medium that is
in it. Both are `typing.Protocol`s so that callers (the burn job, the FUSE fetcher, the CLI)
depend on these few methods only, and tests can pass fakes.

Numbering: storage slots count from 1 (as changers label them), drives from 0. Mail slots
are listed in `Inventory.mail` (`kind == "mail"`) with the changer's own number for them
(1.. on serial changers, the element number such as 601 with mtx); `import_disc` and
`export_disc` take a mail slot's position, from 1. Machines without numbered slots list bins
instead (`kind == "bin"`, `name` "input", "output", "reject"): bin autoloaders, and the manual
driver whose "input" is a person asked for a blank. Every method may raise a
`robot_drivers.errors.RobotError` subclass; none prints.

Thread safety: a `Changer` implementation serialises its own commands (one picker), so it may
be called from several threads. A `Drive` is used by one thread at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

# Slot states. A changer without a media sensor reports FULL for any occupied slot; one that
# can tell (the simulator, some changers) reports BLANK or RECORDED instead.
EMPTY = "empty"
FULL = "full"
BLANK = "blank"
RECORDED = "recorded"
UNKNOWN = "unknown"  # the changer cannot tell (bin autoloaders count nothing)

# Drive states.
DRIVE_EMPTY = "empty"
DRIVE_LOADED = "loaded"
DRIVE_NOT_READY = "not_ready"
DRIVE_UNKNOWN = "unknown"  # the changer cannot tell (a bin autoloader after a lost reply)

SLOT_KIND_STORAGE = "storage"
SLOT_KIND_MAIL = "mail"
SLOT_KIND_BIN = "bin"

# (bytes done, bytes total) during a burn; total may be 0 when not yet known.
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class SlotInfo:
    """One storage slot, mail slot or bin as the changer reports it."""

    slot: int
    state: str  # EMPTY, FULL, BLANK, RECORDED or UNKNOWN
    label: str | None = None  # volume label / tag when the changer knows it
    kind: str = SLOT_KIND_STORAGE  # SLOT_KIND_STORAGE, SLOT_KIND_MAIL or SLOT_KIND_BIN
    name: str | None = None  # bins: "input", "output", "reject"

    @property
    def occupied(self) -> bool:
        return self.state not in (EMPTY, UNKNOWN)


@dataclass(frozen=True)
class DriveInfo:
    """One drive: is a medium in it, and which storage slot did it come from."""

    drive: int
    state: str  # DRIVE_EMPTY, DRIVE_LOADED, DRIVE_NOT_READY or DRIVE_UNKNOWN
    loaded_from_slot: int | None = None
    label: str | None = None
    medium: str | None = None  # BLANK, RECORDED or FULL (unknown) when loaded


@dataclass(frozen=True)
class Inventory:
    """What the changer holds: storage slots, drives, and mail slots or bins."""

    slots: tuple[SlotInfo, ...]
    drives: tuple[DriveInfo, ...]
    mail: tuple[SlotInfo, ...] = ()

    def slot(self, n: int) -> SlotInfo:
        for s in self.slots:
            if s.slot == n:
                return s
        raise KeyError(n)

    def drive(self, n: int) -> DriveInfo:
        for d in self.drives:
            if d.drive == n:
                return d
        raise KeyError(n)


@runtime_checkable
class Changer(Protocol):
    """A machine that moves discs between slots, drives and mail slots (or bins)."""

    def inventory(self) -> Inventory:
        """The current contents of every slot, drive and mail slot (may scan; seconds)."""

    def load(self, slot: int, drive: int = 0) -> None:
        """Move the disc in storage `slot` into `drive`. EmptySlot, SlotFull (drive busy)..."""

    def unload(self, drive: int = 0, slot: int | None = None) -> int:
        """Move the disc in `drive` to `slot` (default: the slot it came from); return the slot."""

    def transfer(self, source_slot: int, dest_slot: int) -> None:
        """Move a disc from one storage slot to another."""

    def import_disc(self, slot: int, mail_slot: int = 1) -> None:
        """Move a disc put into mail slot `mail_slot` to storage `slot`."""

    def export_disc(self, slot: int, mail_slot: int = 1) -> None:
        """Move the disc in storage `slot` to mail slot `mail_slot` for the user to take."""

    def reset(self) -> None:
        """Clear faults and re-home the mechanism (discs stay where they are)."""

    def close(self) -> None:
        """Release the port or device; the object is not used afterwards."""


@runtime_checkable
class Drive(Protocol):
    """An optical drive (or a pseudo-drive on a file) that reads and burns one medium."""

    name: str  # e.g. "/dev/sr0" or "stdio:/home/robot/drives/drive0.img"

    def wait_for_media(self, timeout_s: float) -> None:
        """Return once a medium is in the drive and ready; DriveNotReady after `timeout_s`."""

    def medium_size(self) -> int:
        """Bytes readable on the loaded medium (0 for a blank); DriveNotReady if none."""

    def volume_label(self) -> str | None:
        """The ISO 9660 volume identifier of the loaded medium, None for a blank or unknown."""

    def read(self, offset: int, length: int) -> bytes:
        """Exactly `length` bytes at byte `offset` of the medium; UnreadableDisc on errors."""

    def burn(self, image_path: Path, progress_cb: ProgressCallback | None = None) -> None:
        """Write `image_path` to the loaded blank medium; BurnFailed on any failure."""

    def eject(self) -> None:
        """Open the tray / release the medium so the changer can take it."""
