"""A disc's catalogue.json, parsed and validated: what restore and rebuild may trust.

`parse_disc_catalogue(data)` turns the JSON written by `manifest` (read with
`reader.DiscImage.catalogue()`) into typed records, and rejects anything a hostile or damaged
disc could use to escape a restore target or poison a catalogue: archived paths must be
relative, without empty, '.' or '..' components or NUL bytes, with components of at most 255
bytes; hashes must be 64 hex digits; numbers must be non-negative integers. Any violation
raises `InputError` naming the entry. Archived paths come back as the original raw bytes
(the UDF text form decoded with `names.raw_from_udf_text`, or the recorded `raw` hex).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from odarchive.errors import InputError
from odarchive.iso.layout import DATA_DIR
from odarchive.iso.names import raw_from_udf_text

_HEX64 = re.compile(r"[0-9a-f]{64}")
_PART = re.compile(rb"\.part(\d{3,})$")
MAX_NAME = 255
MAX_DEPTH = 4096


@dataclass(frozen=True)
class DiscFile:
    """One file under DATA/ on the disc: a whole content or a piece of one."""

    udf_path: str  # "/DATA/..." (for DiscImage.open)
    archived_path: bytes  # root/dir/name of the content (without .partNNN)
    sha256: bytes  # the content's hash
    size: int  # the content's size
    mode: int
    mtime_ns: int
    part: int  # 0: the whole content
    offset: int
    length: int
    part_sha256: bytes | None


@dataclass(frozen=True)
class TreeEntry:
    kind: str  # 'd' or 'l'
    archived_path: bytes
    mode: int
    mtime_ns: int
    target: bytes | None


@dataclass(frozen=True)
class DiscCatalogue:
    archive_id: str
    disc: int
    label: str
    chunk_size: int
    files: list[DiscFile]
    tree: list[TreeEntry]
    tree_complete: bool
    other_filenames: dict[bytes, list[bytes]]  # content sha256 -> more archived paths
    disc_map: list[tuple[int, bytes, int]]  # (disc, content sha256, part)
    disc_map_complete: bool


def _fail(what: str) -> InputError:
    return InputError(f"catalogue.json: {what}", hint="the disc's catalogue is damaged or not odarchive's; "
                                                     "nothing from it was used")


def check_archived_path(raw: bytes) -> bytes:
    """`raw` if it is a safe relative archived path, else InputError."""
    parts = raw.split(b"/")
    if not raw or len(parts) > MAX_DEPTH or b"\0" in raw or any(
        p in (b"", b".", b"..") or len(p) > MAX_NAME for p in parts
    ):
        raise _fail(f"unsafe archived path {raw!r}")
    return raw


def _int(v: Any, what: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise _fail(f"{what} is not a non-negative integer: {v!r}")
    return v


def _sha(v: Any, what: str) -> bytes:
    if not isinstance(v, str) or not _HEX64.fullmatch(v):
        raise _fail(f"{what} is not a SHA-256 in hex: {v!r}")
    return bytes.fromhex(v)


def _text_path(v: Any, raw_hex: Any, what: str) -> bytes:
    if raw_hex is not None:
        if not isinstance(raw_hex, str) or not re.fullmatch(r"(?:[0-9a-f]{2})+", raw_hex):
            raise _fail(f"{what}: bad raw hex")
        return bytes.fromhex(raw_hex)
    if not isinstance(v, str):
        raise _fail(f"{what} is not a string")
    return raw_from_udf_text(v)


def _dict(v: Any, what: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise _fail(f"{what} is not an object")
    return v


def parse_disc_catalogue(data: Any) -> DiscCatalogue:
    doc = _dict(data, "the document")
    head = _dict(doc.get("odarchive"), "odarchive")
    sizes = {_sha(k, "a files key"): _int(_dict(v, f"files[{k}]").get("size"), f"files[{k}].size")
             for k, v in _dict(doc.get("files"), "files").items()}
    files = [_disc_file(k, _dict(v, f"paths[{k}]"), sizes) for k, v in _dict(head.get("paths"), "paths").items()]
    tree = [_tree_entry(e) for e in _list(head.get("tree", []), "tree")]
    others = {
        _sha(k, "other_filenames key"): [check_archived_path(_text_path(p, None, "other filename")) for p in _list(v, k)]
        for k, v in _dict(head.get("other_filenames", {}), "other_filenames").items()
    }
    dmap = [(_int(e[0], "disc_map disc"), _sha(e[1], "disc_map sha256"), _int(e[2], "disc_map part"))
            for e in (_tuple(x, 3, "disc_map entry") for x in _list(head.get("disc_map", []), "disc_map"))]
    label = head.get("label")
    archive_id = head.get("archive_id")
    if not isinstance(label, str) or not isinstance(archive_id, str):
        raise _fail("label or archive_id is not a string")
    return DiscCatalogue(archive_id, _int(head.get("disc"), "disc"), label, _int(head.get("chunk_size"), "chunk_size"),
                         files, tree, head.get("tree_complete") is True, others, dmap, head.get("disc_map_complete") is True)


def _list(v: Any, what: str) -> list[Any]:
    if not isinstance(v, list):
        raise _fail(f"{what} is not a list")
    return v


def _tuple(v: Any, n: int, what: str) -> list[Any]:
    if not isinstance(v, list) or len(v) != n:
        raise _fail(f"{what} is not a list of {n}")
    return v


def _disc_file(key: str, e: dict[str, Any], sizes: dict[bytes, int]) -> DiscFile:
    disc_raw = _text_path(key, e.get("raw"), f"paths[{key}]")
    prefix = DATA_DIR.encode() + b"/"
    if not disc_raw.startswith(prefix):
        raise _fail(f"paths[{key}] is not under {DATA_DIR}/")
    rel = check_archived_path(disc_raw[len(prefix):])
    sha = _sha(e.get("sha256"), f"paths[{key}].sha256")
    if sha not in sizes:
        raise _fail(f"paths[{key}]: its content is not in files")
    part = _int(e.get("part", 0), f"paths[{key}].part")
    offset, length, part_sha = 0, sizes[sha], None
    if part:
        m = _PART.search(rel)
        if m is None or int(m.group(1)) != part or rel[: m.start()] == b"":
            raise _fail(f"paths[{key}]: part {part} does not match its name")
        rel = check_archived_path(rel[: m.start()])
        offset, length = _int(e.get("offset"), f"paths[{key}].offset"), _int(e.get("length"), f"paths[{key}].length")
        part_sha = _sha(e.get("part_sha256"), f"paths[{key}].part_sha256")
        if offset + length > sizes[sha]:
            raise _fail(f"paths[{key}]: the piece lies beyond its content")
    return DiscFile("/" + key, rel, sha, sizes[sha], _int(e.get("mode", 0o100644), f"paths[{key}].mode"),
                    _int(e.get("mtime_ns", 0), f"paths[{key}].mtime_ns"), part, offset, length, part_sha)


def _tree_entry(v: Any) -> TreeEntry:
    kind, path, mode, mtime_ns, target, raw = _tuple(v, 6, "tree entry")
    if kind not in ("d", "l"):
        raise _fail(f"tree entry of unknown kind {kind!r}")
    if kind == "l" and not isinstance(target, str):
        raise _fail(f"symlink {path!r} has no target")
    return TreeEntry(kind, check_archived_path(_text_path(path, raw, "tree path")), _int(mode, "tree mode"),
                     _int(mtime_ns, "tree mtime_ns"), raw_from_udf_text(target) if kind == "l" else None)
