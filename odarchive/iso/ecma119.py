"""ISO 9660 (ECMA-119) and Joliet records, as bytes: volume descriptors, directory records,
path table entries and the UDF volume recognition sequence that sits among the descriptors.

Pure functions of their arguments (no I/O, no state), used by `odarchive.iso.writer`. Field
offsets follow ECMA-119 8.4 (primary volume descriptor), 8.5 (supplementary, Joliet's
escape sequence `%/E` for UCS-2 level 3), 9.1 (directory record) and 9.4 (path table);
numbers are recorded little-endian, big-endian or both (`both32`), as the standard says.
"""

from __future__ import annotations

import struct
import time

BLOCK = 2048
FLAG_DIR = 0x02
FLAG_MULTI_EXTENT = 0x80  # "not the final record of this file" (9.1.6, bit 7)
JOLIET_ESCAPE = b"%/E"


def both16(v: int) -> bytes:
    return struct.pack("<H", v) + struct.pack(">H", v)


def both32(v: int) -> bytes:
    return struct.pack("<I", v) + struct.pack(">I", v)


def record_date(epoch_s: float) -> bytes:
    """The 7-byte date of a directory record (9.1.5), in UTC."""
    t = time.gmtime(max(0, min(int(epoch_s), 0x7FFFFFFF)))
    return bytes((t.tm_year - 1900, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, 0))


def volume_date(epoch_s: float) -> bytes:
    """The 17-byte date of a volume descriptor (8.4.26.1), in UTC."""
    return time.strftime("%Y%m%d%H%M%S00", time.gmtime(int(epoch_s))).encode() + b"\0"


NO_DATE = b"0" * 16 + b"\0"


def dir_record(ident: bytes, extent: int, length: int, flags: int, date: bytes) -> bytes:
    """One directory record: ident b"\\0" is '.', b"\\1" is '..'."""
    out = bytearray(record_len(len(ident)))
    pack_dir_record(out, 0, ident, extent, length, flags, date)
    return bytes(out)


_RECORD = struct.Struct("<BBI4sI4s7sBBBHHB")  # ECMA-119 9.1 up to the identifier (both-endian as LE + bytes)


def record_len(ident_len: int) -> int:
    """Bytes of a directory record with an identifier of `ident_len` bytes (padded to even)."""
    return 34 + ident_len - ident_len % 2


def pack_dir_record(out: bytearray, pos: int, ident: bytes, extent: int, length: int, flags: int, date: bytes) -> None:
    """`dir_record(...)` written into `out` at `pos` (whose bytes are zero: the padding byte is
    left as it is)."""
    n = len(ident)
    _RECORD.pack_into(
        out,
        pos,
        34 + n - n % 2,
        0,
        extent,
        extent.to_bytes(4, "big"),
        length,
        length.to_bytes(4, "big"),
        date,
        flags,
        0,
        0,
        1,
        0x100,
        n,
    )
    out[pos + 33 : pos + 33 + n] = ident


def path_table_entry(ident: bytes, extent: int, parent: int, big_endian: bool) -> bytes:
    """One path table record (9.4); the root's ident is b"\\0" and its parent 1."""
    fmt = ">IH" if big_endian else "<IH"
    pad = b"\0" if len(ident) % 2 else b""
    return bytes((len(ident), 0)) + struct.pack(fmt, extent, parent) + ident + pad


def _text(value: str, width: int, joliet: bool) -> bytes:
    """A text field padded with spaces (UCS-2 spaces for Joliet; an odd width ends with 0)."""
    if not joliet:
        return value.encode("ascii")[:width].ljust(width, b" ")
    even = width - width % 2
    raw = value.encode("utf-16-be")[:even]
    return (raw + " ".encode("utf-16-be") * ((even - len(raw)) // 2)).ljust(width, b"\0")


def volume_descriptor(
    *,
    joliet: bool,
    system_id: str,
    volume_id: str,
    application_id: str,
    space_blocks: int,
    path_table_bytes: int,
    path_le: int,
    path_be: int,
    root_extent: int,
    root_bytes: int,
    created: float,
) -> bytes:
    """The primary (joliet=False) or Joliet supplementary (joliet=True) volume descriptor."""
    date = volume_date(created)
    root = dir_record(b"\0", root_extent, root_bytes, FLAG_DIR, record_date(created))
    vd = bytearray(BLOCK)
    vd[0:7] = bytes((2 if joliet else 1,)) + b"CD001\x01"
    vd[8:40] = _text(system_id, 32, joliet)
    vd[40:72] = _text(volume_id, 32, joliet)
    vd[80:88] = both32(space_blocks)
    if joliet:
        vd[88:91] = JOLIET_ESCAPE
    vd[120:124] = both16(1)
    vd[124:128] = both16(1)
    vd[128:132] = both16(BLOCK)
    vd[132:140] = both32(path_table_bytes)
    vd[140:144] = struct.pack("<I", path_le)
    vd[148:152] = struct.pack(">I", path_be)
    vd[156:190] = root
    for start, width in ((190, 128), (318, 128), (446, 128)):  # volume set, publisher, preparer
        vd[start : start + width] = _text("", width, joliet)
    vd[574:702] = _text(application_id, 128, joliet)
    for start in (702, 739, 776):  # copyright, abstract and bibliographic file identifiers
        vd[start : start + 37] = _text("", 37, joliet)
    vd[813:830] = date
    vd[830:847] = date
    vd[847:864] = NO_DATE
    vd[864:881] = date
    vd[881] = 1
    vd[883:1395] = b" " * 512
    return bytes(vd)


def terminator() -> bytes:
    return (b"\xffCD001\x01").ljust(BLOCK, b"\0")


def recognition_sequence() -> bytes:
    """The UDF volume recognition sequence (ECMA-167 2/9): BEA01, NSR02, TEA01, one block each."""
    return b"".join((b"\0" + ident + b"\x01").ljust(BLOCK, b"\0") for ident in (b"BEA01", b"NSR02", b"TEA01"))
