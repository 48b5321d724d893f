"""The three files that make a disc self-describing: README.md, catalogue.json, SHA256SUMS.

catalogue.json is the seed's format (version 1: `files` keyed by SHA-256 with `filenames`,
`size`, `mtime`) for the contents on this disc, plus an `odarchive` section:

- `paths`: every file under DATA/ with its content hash, st_mode, mtime in ns, its ISO 9660
  and Joliet paths, and for a piece its part number, offset, length and own hash; `raw` gives
  the original path bytes (hex) whenever the UDF path is not simply the original path as UTF-8.
- `other_filenames` and `disc_map` (which content or piece is on which disc): optional, filled
  at build time as far as the disc's reserve allows (`complete` says whether all fitted).

The required part is a pure function of the disc's layout, so the planner can size it exactly
before the image is built; only hashes of pieces are filled in later, and they have a fixed
width. SHA256SUMS lists every file of the disc but itself, in `sha256sum` format.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Iterator

from odarchive.iso import names
from odarchive.iso.layout import DATA_DIR, DiscLayout, FileNode

README_BUDGET = 6144  # bytes the planner reserves for README.md (it is never longer)
PIECE_SUFFIX = ".part{:03d}"
NAME_ENCODING = (
    "UDF names are the original names decoded as UTF-8; a byte that is not valid UTF-8 is "
    "written as the character U+F700+byte; a name too long for UDF is shortened with ~hash. "
    "ISO 9660 and Joliet names are mapped. odarchive.paths gives, for every file under DATA/, "
    "its ISO 9660 and Joliet paths and (as 'raw', hex) its original path bytes when they differ."
)
ZERO_HASH = "0" * 64


@dataclass(slots=True)
class Placed:
    """One content or piece on the disc: what the manifest and the builder need to know."""

    content_id: int
    piece: int  # 0: the whole content; 1..n: part number
    offset: int
    length: int
    content_sha: bytes
    content_size: int
    mtime_ns: int
    raw_path: bytes  # archived path of the file whose bytes these are (root/dir/name)
    piece_sha: bytes | None = None  # hash of a piece, known once it was read
    mode: int = 0o100644  # the file's st_mode


def disc_raw_path(p: Placed) -> bytes:
    """The archived path under DATA/ of a placement (with .partNNN for pieces)."""
    return p.raw_path + PIECE_SUFFIX.format(p.piece).encode() if p.piece else p.raw_path


@dataclass(frozen=True)
class DiscInfo:
    archive_id: str
    disc: int
    label: str
    chunk_size: int


def _udf_rel(udf_abs: str) -> str:
    return udf_abs.lstrip("/")


def file_line(f: FileNode, udf: str, jol: str, iso: str) -> tuple[str, str]:
    """(files-entry line, paths-entry line) of catalogue.json for one disc file (memoised)."""
    p: Placed = f.ref
    key = (udf, jol, iso, p.piece_sha)
    if f.memo is None or f.memo[0] != key:
        f.memo = (key, _file_line(p, udf, jol, iso))
    return f.memo[1]


def _file_line(p: Placed, udf: str, jol: str, iso: str) -> tuple[str, str]:
    sha = p.content_sha.hex()
    archived = names.udf_text(p.raw_path)
    files_line = f"{json.dumps(sha)}: {{\"filenames\": {{{json.dumps(archived)}: null}}, \"size\": {p.content_size}, \"mtime\": {p.mtime_ns / 1e9!r}}}"
    entry: dict[str, object] = {"sha256": sha}
    if p.piece:
        entry.update(part=p.piece, offset=p.offset, length=p.length,
                     part_sha256=p.piece_sha.hex() if p.piece_sha else ZERO_HASH)
    entry.update(mode=p.mode, mtime_ns=p.mtime_ns, iso=iso, joliet=jol)
    if names.raw_from_udf_text(_udf_rel(udf)) != (DATA_DIR.encode() + b"/" + disc_raw_path(p)):
        entry["raw"] = (DATA_DIR.encode() + b"/" + disc_raw_path(p)).hex()
    return files_line, f"{json.dumps(_udf_rel(udf))}: {json.dumps(entry)}"


def _join(lines: Iterable[str]) -> str:
    return ",\n".join(lines)


def catalogue_json(layout: DiscLayout, info: DiscInfo, other_filenames: dict[str, list[str]] | None = None,
                   disc_map: list[tuple[int, str, int]] | None = None, map_complete: bool = False) -> str:
    files: dict[str, str] = {}
    paths: list[str] = []
    for f, udf, jol, iso in layout.files():
        fl, pl = file_line(f, udf, jol, iso)
        files.setdefault(f.ref.content_sha.hex(), fl)
        paths.append(pl)
    head = {"format": 1, "archive_id": info.archive_id, "disc": info.disc, "label": info.label,
            "data_dir": DATA_DIR, "chunk_size": info.chunk_size, "piece_suffix": PIECE_SUFFIX,
            "name_encoding": NAME_ENCODING}
    text = '{"version": 1,\n"files": {\n' + _join(files.values()) + "\n},\n"
    text += '"odarchive": ' + json.dumps(head)[:-1] + ',\n"paths": {\n' + _join(paths) + "\n}"
    if other_filenames:
        text += ',\n"other_filenames": {\n' + _join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in other_filenames.items()) + "\n}"
    if disc_map is not None:
        text += f',\n"disc_map_complete": {json.dumps(map_complete)},\n"disc_map": [\n' + _join(json.dumps(list(e)) for e in disc_map) + "\n]"
    return text + "}}\n"


def extras_cost(other_filenames: dict[str, list[str]] | None, disc_map: list[tuple[int, str, int]] | None) -> int:
    """Bytes the optional sections add to catalogue_json's output."""
    n = 0
    if other_filenames:
        n += len(',\n"other_filenames": {\n') + len("\n}") + 2 * (len(other_filenames) - 1)
        n += sum(len(f"{json.dumps(k)}: {json.dumps(v)}") for k, v in other_filenames.items())
    if disc_map is not None:
        n += len(',\n"disc_map_complete": false,\n"disc_map": [\n') + len("\n]") + 2 * max(len(disc_map) - 1, 0)
        n += sum(len(json.dumps(list(e))) for e in disc_map)
    return n


def _escape(path: str) -> tuple[str, str]:
    if "\\" in path or "\n" in path:
        return "\\", path.replace("\\", "\\\\").replace("\n", "\\n")
    return "", path


def sha256sums_line(sha_hex: str, path: str) -> str:
    prefix, p = _escape(path)
    return f"{prefix}{sha_hex}  {p}\n"


def sha256sums(layout: DiscLayout, extra: Iterable[tuple[str, str]] = ()) -> str:
    """SHA256SUMS of the data files (pieces by their own hash) plus `extra` (hex, path)."""
    lines = [sha256sums_line(h, p) for h, p in extra]
    for f, udf, _jol, _iso in layout.files():
        p: Placed = f.ref
        sha = (p.piece_sha.hex() if p.piece_sha else ZERO_HASH) if p.piece else p.content_sha.hex()
        lines.append(sha256sums_line(sha, _udf_rel(udf)))
    return "".join(lines)


def manifest_extra() -> Iterator[tuple[str, str]]:
    """Placeholder (hash, path) lines for README.md and catalogue.json in SHA256SUMS."""
    yield ZERO_HASH, "README.md"
    yield ZERO_HASH, "catalogue.json"


def required_sizes(layout: DiscLayout, info: DiscInfo, reserve: int) -> dict[str, int]:
    """Manifest sizes the planner accounts for: README budget, catalogue.json + reserve, SHA256SUMS."""
    cat = len(catalogue_json(layout, info).encode())
    sums = len(sha256sums(layout, manifest_extra()).encode())
    return {"README.md": README_BUDGET, "catalogue.json": cat + reserve, "SHA256SUMS": sums}


def readme(info: DiscInfo, n_files: int, data_bytes: int, discs_planned: int) -> str:
    text = f"""# odarchive disc {info.disc:04d} ({info.label})

This disc is disc number {info.disc} (counting from 0) of the odarchive archive
{info.archive_id}. When it was written, {discs_planned} disc(s) were planned for the archive.
It holds {n_files} file(s), {data_bytes} bytes of data.

## What is on it

- `DATA/<root>/...`: the archived files, under their original names in the UDF file system.
  A file larger than a disc is split into pieces named `NAME.part001`, `NAME.part002`, ...;
  join them in part order (`cat NAME.part* > NAME`) once you have the pieces from every disc.
  `catalogue.json` says which disc holds which piece.
- `catalogue.json`: what is on this disc (format version 1: content SHA-256 -> filenames,
  size, mtime), how names were mapped for the ISO 9660 and Joliet views, and as much of the
  map of the whole archive (which content is on which disc) as fits.
- `SHA256SUMS`: the SHA-256 of every file on this disc.

## Reading it

The disc is a UDF 2.60 / ISO 9660 bridge: any operating system can read it. Use the UDF view
for full names (Linux: `mount -t udf`, or `7zz x -tudf IMAGE`); the ISO 9660 and Joliet views
carry shortened names (see `catalogue.json`, `odarchive.paths`).

## Checking it

    cd /path/to/the/disc && sha256sum -c SHA256SUMS

Every line must say OK. With odarchive: `odarchive verify IMAGE`.
"""
    assert len(text.encode()) <= README_BUDGET
    return text
