"""Read the ISO 9660 volume identifier of a medium (or an image) from its first descriptors.

Used to tell which disc is in a drive (the label names the archive and the disc number) and by
the simulator to label a medium after it was burned. Only the Primary Volume Descriptor is
read: sector 16 (byte 32768), type 1, "CD001", volume identifier at bytes 40..71.
"""

from __future__ import annotations

PVD_OFFSET = 16 * 2048
PVD_LENGTH = 2048


def label_from_pvd(sector: bytes) -> str | None:
    """The volume identifier in a Primary Volume Descriptor sector, None if it is not one."""
    if len(sector) < 72 or sector[0] != 1 or sector[1:6] != b"CD001":
        return None
    label = sector[40:72].decode("ascii", "replace").rstrip(" \x00")
    return label or None


def file_volume_label(path: str) -> str | None:
    """The label of an image or pseudo-drive file; None for a short, blank or foreign file."""
    try:
        with open(path, "rb") as f:
            f.seek(PVD_OFFSET)
            return label_from_pvd(f.read(PVD_LENGTH))
    except OSError:
        return None
