"""Reading a disc image back with pycdlib: its catalogue.json, SHA256SUMS and file bytes.

`DiscImage(path)` opens an image written by odarchive (or any UDF image) and reads files by
UDF path ("/DATA/root/a.txt"). Restore, rebuild and verify use it; nothing here trusts the
image: catalogue.json that is not valid JSON raises `DiscError`, callers validate contents.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import Any, Iterator

from odarchive.errors import DiscError

READ_SIZE = 1 << 20


def parse_sha256sums(text: str) -> list[tuple[str, str]]:
    """(hex, path) pairs of a `sha256sum` file, unescaping \\\\ and \\n as sha256sum does."""
    out = []
    for line in text.splitlines():
        if not line:
            continue
        escaped = line.startswith("\\")
        if escaped:
            line = line[1:]
        digest, sep, path = line.partition("  ")
        if not sep or len(digest) != 64:
            raise DiscError(f"malformed SHA256SUMS line: {line[:80]!r}")
        if escaped:
            path = path.replace("\\\\", "\0").replace("\\n", "\n").replace("\0", "\\")
        out.append((digest.lower(), path))
    return out


class DiscImage:
    """An open disc image (a context manager)."""

    def __init__(self, path: Path | str) -> None:
        import pycdlib
        from pycdlib.pycdlibexception import PyCdlibException

        self.path = Path(path)
        self._iso = pycdlib.PyCdlib()
        try:
            self._iso.open(str(self.path))
        except (PyCdlibException, OSError, ValueError, struct.error) as e:  # a damaged image fails in many ways
            raise DiscError(f"cannot read image {self.path}: {e}", hint="is it a complete odarchive disc image?") from None
        if not self._iso.has_udf():
            self._iso.close()
            raise DiscError(f"{self.path} has no UDF file system", hint="odarchive discs are UDF/ISO 9660 bridge images")

    def __enter__(self) -> "DiscImage":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._iso.close()

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

    def extract(self, udf_path: str, out: Any) -> int:
        """Copy one file's bytes to the binary file object `out`; returns the byte count."""
        n = 0
        with self.open(udf_path) as f:
            while chunk := f.read(READ_SIZE):
                out.write(chunk)
                n += len(chunk)
        return n

    def catalogue(self) -> dict[str, Any]:
        """The disc's catalogue.json (parsed; callers validate what they use)."""
        try:
            data = json.loads(self.read_bytes("/catalogue.json"))
        except (ValueError, UnicodeDecodeError) as e:
            raise DiscError(f"{self.path}: catalogue.json is not valid JSON: {e}") from None
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
                path = (d.rstrip("/") + "/" + name)
                if child.is_dir():
                    stack.append(path)
                else:
                    yield path, child.get_data_length()
