"""Reading a disc image back with pycdlib: its catalogue.json, SHA256SUMS and file bytes.

`DiscImage(path)` opens an image written by odarchive (or any UDF image) and reads files by
UDF path ("/DATA/root/a.txt"). Restore, rebuild and verify use it; nothing here trusts the
image: catalogue.json that is not valid JSON raises `DiscError`, callers validate contents.

A tail-truncated image (a full disk, a copy cut short) is opened as if it had the size its
volume descriptor declares, the missing tail reading as zeros (`_PaddedImage`), so that the
file system, which lies at the start, is still read; `missing_tail(udf_path)` says whether a
file's data lay in the part that is gone.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from odarchive.errors import DiscError

READ_SIZE = 1 << 20
SECTOR = 2048
PVD_SPACE_SIZE = 16 * SECTOR + 80  # ISO 9660 primary volume descriptor: volume space size (LE uint32)


class _PaddedImage(io.RawIOBase):
    """A read-only image file that reads as `size` bytes: zeros past the real end of file.

    When the tail is missing, so is UDF's last anchor (ECMA-167 3/8.4.2.1 wants two of sectors
    256, N-256 and N): the last sector then reads as the anchor of sector 256, moved there
    (its tag location and checksum rewritten; the descriptor itself is the same)."""

    def __init__(self, path: Path, size: int) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        self._real = os.fstat(self._fd).st_size
        self._size = max(size, self._real)
        self._pos = 0
        self._overlay: dict[int, bytes] = {}
        if self._size > self._real and self._real >= 257 * SECTOR:
            last = self._size // SECTOR - 1
            anchor = _moved_anchor(os.pread(self._fd, SECTOR, 256 * SECTOR), last)
            if anchor is not None:
                self._overlay[last * SECTOR] = anchor

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buf: Any) -> int:
        n = max(0, min(len(buf), self._size - self._pos))
        got = os.preadv(self._fd, [memoryview(buf)[:n]], self._pos) if self._pos < self._real else 0
        memoryview(buf)[got:n] = bytes(n - got)
        for at, data in self._overlay.items():
            lo, hi = max(at, self._pos), min(at + len(data), self._pos + n)
            if lo < hi:
                memoryview(buf)[lo - self._pos : hi - self._pos] = data[lo - at : hi - at]
        self._pos += n
        return n

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def _moved_anchor(sector: bytes, location: int) -> bytes | None:
    """A UDF anchor volume descriptor pointer (tag 2) recorded at `location` instead."""
    if len(sector) < 16 or struct.unpack_from("<H", sector)[0] != 2:
        return None
    tag = bytearray(sector[:16])
    struct.pack_into("<I", tag, 12, location)
    tag[4] = sum(tag[:4] + tag[5:16]) & 0xFF
    return bytes(tag) + sector[16:]


def declared_size(path: Path) -> int:
    """The size in bytes an ISO 9660 image's primary volume descriptor declares (0: none)."""
    with open(path, "rb") as f:
        f.seek(PVD_SPACE_SIZE)
        raw = f.read(4)
    return struct.unpack("<I", raw)[0] * SECTOR if len(raw) == 4 else 0


def parse_sha256sums(text: str) -> list[tuple[str, str]]:
    """(hex, path) pairs of a `sha256sum` file, unescaping \\\\, \\n and \\r as sha256sum does.
    Lines end at newlines only: a name may hold a carriage return or any other control character."""
    out = []
    for line in text.split("\n"):
        if not line:
            continue
        escaped = line.startswith("\\")
        if escaped:
            line = line[1:]
        digest, sep, path = line.partition("  ")
        if not sep or len(digest) != 64:
            raise DiscError(f"malformed SHA256SUMS line: {line[:80]!r}")
        if escaped:
            path = path.replace("\\\\", "\0").replace("\\n", "\n").replace("\\r", "\r").replace("\0", "\\")
        out.append((digest.lower(), path))
    return out


class DiscImage:
    """An open disc image (a context manager)."""

    def __init__(self, path: Path | str) -> None:
        import pycdlib
        from pycdlib.pycdlibexception import PyCdlibException

        self.path = Path(path)
        self._iso = pycdlib.PyCdlib()
        self._fp: _PaddedImage | None = None
        try:
            self.actual_bytes = self.path.stat().st_size
            self._fp = _PaddedImage(self.path, declared_size(self.path))
            self._iso.open_fp(cast(BinaryIO, self._fp))  # it reads, seeks and tells like a file
        except (
            PyCdlibException,
            OSError,
            ValueError,
            struct.error,
            KeyError,
        ) as e:  # a damaged image fails in many ways
            if self._fp is not None:
                self._fp.close()
            raise DiscError(
                f"cannot read image {self.path}: {e}", hint="is it a complete odarchive disc image?"
            ) from None
        if not self._iso.has_udf():
            self.close()
            raise DiscError(
                f"{self.path} has no UDF file system", hint="odarchive discs are UDF/ISO 9660 bridge images"
            )

    def __enter__(self) -> DiscImage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._iso.close()
        if self._fp is not None:
            self._fp.close()

    def missing_tail(self, udf_path: str) -> bool:
        """Some of the file's data lies beyond the end of a truncated image file."""
        return any(o + n > self.actual_bytes for o, n in self.extents(udf_path))

    def declared_bytes(self) -> int:
        """The image size its volume descriptor declares (a shorter file was truncated)."""
        return int(self._iso.pvd.space_size) * int(self._iso.logical_block_size)

    def extents(self, udf_path: str) -> list[tuple[int, int]]:
        """(byte offset, length) of each extent of a file's data inside the image."""
        from pycdlib.pycdlibexception import PyCdlibException

        try:
            return [(int(o), int(n)) for o, n in self._iso.get_file_byte_extents(udf_path=udf_path)]
        except PyCdlibException as e:
            raise DiscError(f"{self.path}: no file {udf_path}: {e}") from None

    def read_bytes(self, udf_path: str) -> bytes:
        with self.open(udf_path) as f:
            return f.read()

    def open(self, udf_path: str) -> Any:
        """A read-only file object over one file (use as a context manager)."""
        from pycdlib.pycdlibexception import PyCdlibException

        try:
            return self._iso.open_file_from_iso(udf_path=udf_path)
        except PyCdlibException as e:
            raise DiscError(f"{self.path}: no file {udf_path}: {e}") from None

    def sha256(self, udf_path: str) -> str:
        h = hashlib.sha256()
        with self.open(udf_path) as f:
            while chunk := f.read(READ_SIZE):
                h.update(chunk)
        return h.hexdigest()

    def catalogue(self) -> dict[str, Any]:
        """The disc's catalogue.json (parsed; callers validate what they use)."""
        try:
            data = json.loads(self.read_bytes("/catalogue.json"))
        except (ValueError, UnicodeDecodeError) as e:
            raise DiscError(f"{self.path}: catalogue.json is not valid JSON: {str(e)[:300]}") from None
        except RecursionError:
            raise DiscError(f"{self.path}: catalogue.json is nested too deeply") from None
        if not isinstance(data, dict) or data.get("version") != 1:
            raise DiscError(f"{self.path}: catalogue.json is not version 1 of the format")
        return data

    def sha256sums(self) -> list[tuple[str, str]]:
        try:
            return parse_sha256sums(self.read_bytes("/SHA256SUMS").decode("utf-8"))
        except UnicodeDecodeError as e:
            raise DiscError(f"{self.path}: SHA256SUMS is not UTF-8: {e}") from None

    def files(self, top: str = "/") -> Iterator[tuple[str, int]]:
        """(UDF path, size) of every file under `top`, depth first."""
        stack = [top]
        while stack:
            d = stack.pop()
            for child in self._iso.list_children(udf_path=d):
                if child is None or child.file_ident is None:
                    continue
                name = child.file_ident.fi.decode(child.file_ident.encoding)
                path = d.rstrip("/") + "/" + name
                if child.is_dir():
                    stack.append(path)
                else:
                    yield path, child.get_data_length()
