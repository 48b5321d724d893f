"""How a drive senses its medium: udev + ioctls for `/dev/srN`, a sidecar file for `stdio:`.

`UdevProbe` waits for a medium with pyudev (the kernel sets `ID_CDROM_MEDIA=1` and sends a
change event with `DISK_MEDIA_CHANGE=1` when a disc is inserted), asks the drive with the
CDROM_DRIVE_STATUS ioctl, sizes the medium with BLKGETSIZE64 and ejects with CDROMEJECT.

`SidecarProbe` is for xorriso `stdio:` pseudo-drives: the simulator writes `<file>.json`
next to the drive file, saying whether a medium is present, when it has spun up, whether it is
unreadable (wholly, or in `bad_sectors` ranges: a scratch), where a blank is defective (a burn failing at a percentage)
and how fast it reads (`read_bytes_per_s`: each read takes as long as a real drive's). A pseudo-drive
without a sidecar is ready when its file exists.
"""

from __future__ import annotations

import fcntl
import json
import os
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from robot_drivers import errors

CDROMEJECT = 0x5309
CDROM_LOCKDOOR = 0x5329
CDROM_DRIVE_STATUS = 0x5326
CDS_DISC_OK = 4
BLKGETSIZE64 = 0x80081272
SECTOR = 2048


class MediaProbe(Protocol):
    def wait_for_media(self, path: str, timeout_s: float) -> None: ...
    def medium_size(self, path: str) -> int: ...
    def check_readable(self, path: str, offset: int = 0, length: int = 0) -> None: ...
    def burn_limits(self, path: str, image_size: int) -> tuple[float | None, int | None]: ...
    def eject(self, path: str) -> None: ...


class SidecarProbe:
    """Media sensing for a `stdio:` pseudo-drive file (see module docstring)."""

    def __init__(self, poll_s: float = 0.005, sleep: Callable[[float], None] = time.sleep) -> None:
        self.poll_s = poll_s
        self.sleep = sleep

    def _sidecar(self, path: str) -> dict[str, Any] | None:
        try:
            return json.loads(Path(path + ".json").read_text())
        except (OSError, ValueError):
            return None

    def _ready(self, path: str) -> bool:
        side = self._sidecar(path)
        if side is None:
            return os.path.exists(path)
        return bool(side.get("present")) and time.time() >= float(side.get("ready_at", 0)) and os.path.exists(path)

    def wait_for_media(self, path: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not self._ready(path):
            if time.monotonic() >= deadline:
                raise errors.DriveNotReady(f"no medium ready in stdio:{path} after {timeout_s:.1f} s")
            self.sleep(self.poll_s)

    def medium_size(self, path: str) -> int:
        side = self._sidecar(path)
        if (side is not None and not side.get("present")) or not os.path.exists(path):
            raise errors.DriveNotReady(f"no medium in stdio:{path}")
        return os.path.getsize(path)

    def check_readable(self, path: str, offset: int = 0, length: int = 0) -> None:
        side = self._sidecar(path) or {}
        if side.get("unreadable"):
            raise errors.UnreadableDisc(f"the medium in stdio:{path} cannot be read (simulated damage)")
        first, last = offset // SECTOR, (offset + max(length, 1) - 1) // SECTOR
        for start, count in side.get("bad_sectors") or ():
            if start <= last and first < start + count:
                raise errors.UnreadableDisc(
                    f"read error on stdio:{path} at sector {max(first, start)} (simulated scratch)"
                )
        rate = float(side.get("read_bytes_per_s") or 0)
        if rate > 0:
            self.sleep(length / rate)

    def burn_limits(self, path: str, image_size: int) -> tuple[float | None, int | None]:
        side = self._sidecar(path) or {}
        rate = side.get("write_bytes_per_s")
        pct = side.get("fail_at_percent")
        return (float(rate) if rate else None, int(image_size * float(pct) / 100) if pct is not None else None)

    def eject(self, path: str) -> None:
        """The changer takes the medium out of a pseudo-drive; nothing to open."""


class UdevProbe:
    """Media sensing for a real optical drive through udev and the cdrom ioctls."""

    def __init__(self, context_factory: Callable[[], Any] | None = None, poll_s: float = 0.5) -> None:
        self._context_factory = context_factory
        self.poll_s = poll_s

    def _context(self) -> Any:
        if self._context_factory is not None:
            return self._context_factory()
        import pyudev

        return pyudev.Context()

    def _drive_status(self, path: str) -> int:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            return fcntl.ioctl(fd, CDROM_DRIVE_STATUS, 0)
        finally:
            os.close(fd)

    def has_media(self, device: Any) -> bool:
        """udev's view: the drive has a medium (`ID_CDROM_MEDIA=1`)."""
        return device.properties.get("ID_CDROM_MEDIA") == "1"

    def wait_for_media(self, path: str, timeout_s: float) -> None:
        import pyudev

        ctx = self._context()
        device = pyudev.Devices.from_device_file(ctx, path)
        deadline = time.monotonic() + timeout_s
        if self.has_media(device) and self._ok(path):
            return
        monitor = pyudev.Monitor.from_netlink(ctx)
        monitor.filter_by("block")
        monitor.start()
        while time.monotonic() < deadline:
            event = monitor.poll(timeout=min(self.poll_s, max(0.0, deadline - time.monotonic())))
            changed = (
                event is not None
                and event.device_node == path
                and (event.properties.get("DISK_MEDIA_CHANGE") == "1" or self.has_media(event))
            )
            if (changed or event is None) and self._ok(path):
                return
        raise errors.DriveNotReady(f"no readable medium in {path} after {timeout_s:.0f} s")

    def _ok(self, path: str) -> bool:
        try:
            return self._drive_status(path) == CDS_DISC_OK
        except OSError:
            return False

    def medium_size(self, path: str) -> int:
        import pyudev

        device = pyudev.Devices.from_device_file(self._context(), path)
        if not self.has_media(device):
            raise errors.DriveNotReady(f"no medium in {path}")
        if device.properties.get("ID_CDROM_MEDIA_STATE") == "blank":
            return 0
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            buf = fcntl.ioctl(fd, BLKGETSIZE64, b"\0" * 8)
        finally:
            os.close(fd)
        return int(struct.unpack("Q", buf)[0])

    def check_readable(self, path: str, offset: int = 0, length: int = 0) -> None:
        """A real drive tells by failing the read itself (EIO)."""

    def burn_limits(self, path: str, image_size: int) -> tuple[float | None, int | None]:
        return None, None

    def eject(self, path: str) -> None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as e:
            raise errors.DriveNotReady(f"cannot open {path} to eject: {e.strerror}") from None
        try:
            fcntl.ioctl(fd, CDROM_LOCKDOOR, 0)
            fcntl.ioctl(fd, CDROMEJECT, 0)
        except OSError as e:
            raise errors.MechanismFault(
                f"{path} did not eject: {e.strerror}", hint="check the tray; press its button"
            ) from None
        finally:
            os.close(fd)
