"""`OpticalDrive`: the `Drive` for a real optical drive or an xorriso `stdio:` pseudo-drive.

`OpticalDrive.for_target("/dev/sr0")` senses media through udev; `for_target("stdio:/x.img")`
through the simulator's sidecar. Reads are plain `pread`s at a byte offset of the device or
file; burns run the real xorriso (`burn.run_burn`).
"""

from __future__ import annotations

import os
from pathlib import Path

from robot_drivers import errors
from robot_drivers.drives.burn import run_burn
from robot_drivers.drives.probes import MediaProbe, SidecarProbe, UdevProbe
from robot_drivers.interfaces import ProgressCallback
from robot_drivers.volume_label import PVD_LENGTH, PVD_OFFSET, label_from_pvd

STDIO = "stdio:"


class OpticalDrive:
    def __init__(self, target: str, probe: MediaProbe, xorriso: str = "xorriso") -> None:
        self.name = target
        self.path = target[len(STDIO) :] if target.startswith(STDIO) else target
        self.probe = probe
        self.xorriso = xorriso

    @classmethod
    def for_target(cls, target: str, xorriso: str = "xorriso") -> OpticalDrive:
        probe: MediaProbe = SidecarProbe() if target.startswith(STDIO) else UdevProbe()
        return cls(target, probe, xorriso)

    def wait_for_media(self, timeout_s: float) -> None:
        self.probe.wait_for_media(self.path, timeout_s)

    def medium_size(self) -> int:
        return self.probe.medium_size(self.path)

    def read(self, offset: int, length: int) -> bytes:
        self.probe.check_readable(self.path, offset, length)
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError as e:
            raise errors.DriveNotReady(f"cannot open {self.name}: {e.strerror}") from None
        try:
            data = os.pread(fd, length, offset)
            while len(data) < length:
                more = os.pread(fd, length - len(data), offset + len(data))
                if not more:
                    break
                data += more
        except OSError as e:
            raise errors.UnreadableDisc(f"read error on {self.name} at byte {offset}: {e.strerror}") from None
        finally:
            os.close(fd)
        if len(data) < length:
            raise errors.UnreadableDisc(
                f"{self.name}: only {offset + len(data)} bytes readable, wanted {length} at byte {offset}"
            )
        return data

    def volume_label(self) -> str | None:
        if self.medium_size() < PVD_OFFSET + PVD_LENGTH:
            return None
        return label_from_pvd(self.read(PVD_OFFSET, PVD_LENGTH))

    def burn(self, image_path: Path, progress_cb: ProgressCallback | None = None) -> None:
        image_path = Path(image_path)
        rate, fail_at = self.probe.burn_limits(self.path, image_path.stat().st_size)
        run_burn(self.name, image_path, progress_cb, xorriso=self.xorriso, write_bytes_per_s=rate, fail_at_byte=fail_at)

    def eject(self) -> None:
        self.probe.eject(self.path)
