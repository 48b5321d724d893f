"""Which error correction an image carries, and the planner's arithmetic for either format.

New discs get RS03 (`NEW`): dvdisaster's RS03 ECC file behind the file system (`rs03`),
encoded on one thread (`tool` says why); discs planned before (schema 6) carry RS02, dvdisaster's augmented
image (`rs02`, single-threaded, about 6x slower to make). Both stay readable and repairable.
The format is recorded per disc (`discs.ecc_format`) when it is planned, so the image is
built with the arithmetic it was planned with. An image says which it carries: the header
that follows the last sector its volume declares starts with "*dvdisaster*RS02" or "RS03".
"""

from __future__ import annotations

from pathlib import Path

from odarchive.ecc import rs02, rs03

RS02, RS03 = "RS02", "RS03"
NEW = RS03
SECTOR = 2048
_COOKIE = b"*dvdisaster*"


def augmented_sectors(fmt: str, data_sectors: int, roots: int) -> int:
    """Sectors of an image of `data_sectors` once its `fmt` error correction is added."""
    return (rs03 if fmt == RS03 else rs02).augmented_sectors(data_sectors, roots)


def max_data_bytes(medium_bytes: int, roots: int | None, fmt: str = NEW) -> int:
    """The largest image (whole sectors) whose augmented form fits `medium_bytes`
    (`medium_bytes` itself without error correction)."""
    if roots is None:
        return medium_bytes
    medium = medium_bytes // SECTOR
    lo, hi = 0, medium  # the augmented size grows with the data: bisect the largest that fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if augmented_sectors(fmt, mid, roots) <= medium:
            lo = mid
        else:
            hi = mid - 1
    return lo * SECTOR


def image_format(image: Path) -> str | None:
    """RS02 or RS03 when `image` carries that error correction behind its volume, else None.

    The header right behind the volume says which. When that sector is damaged, RS03 still
    shows in its CRC sectors (its ECC file's sectors 2.., "*dvdisaster*RS03" half-way in),
    and anything else behind the volume is taken for RS02 (dvdisaster finds RS02's own header
    copies; `tool.repair` reports it if there are none)."""
    from odarchive.iso.reader import declared_size

    end = declared_size(image)
    if not end:
        return None
    with open(image, "rb") as f:
        f.seek(end)
        head = f.read(SECTOR * (2 + CRC_WITNESSES))
    if head.startswith(_COOKIE):
        method = head[len(_COOKIE) : len(_COOKIE) + 4].decode("ascii", "replace")
        return method if method in (RS02, RS03) else None
    crc_cookie = _COOKIE + RS03.encode()
    for k in range(2, 2 + CRC_WITNESSES):
        if head[k * SECTOR + SECTOR // 2 : k * SECTOR + SECTOR // 2 + len(crc_cookie)] == crc_cookie:
            return RS03
    return RS02 if len(head) >= SECTOR else None


CRC_WITNESSES = 8  # RS03 CRC sectors looked at when the ECC header is damaged


def has_ecc(image: Path) -> bool:
    return image_format(image) is not None
