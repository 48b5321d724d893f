"""The three files that make a disc self-describing: README.md, catalogue.json, SHA256SUMS.

catalogue.json is the seed's format (version 1: `files` keyed by SHA-256 with `filenames`,
`size`, `mtime`) for the contents on this disc, plus an `odarchive` section:

- `paths`: every file stored under DATA/ with its content hash, st_mode, mtime in ns, its ISO
  9660 and Joliet paths, and for a piece its part number, offset, length and own hash; `raw`
  gives the original path bytes (hex) whenever the UDF path is not simply the original path
  as UTF-8.
- `names`: the further names of contents stored once on this disc (files with the same bytes),
  with the same fields; in all three trees they point at the stored file's data. `files`
  lists every name of a content under `filenames`.
- optional sections, filled at build time as far as the disc's reserve allows, in this order
  (`<name>_complete` says whether all fitted): `tree` (the directories of this disc's files
  and their symlinks and subdirectories: kind, path, mode, mtime_ns, symlink target, raw path
  bytes in hex when needed), `other_filenames` (other paths with the same content, as
  [path, mode, mtime_ns]) and
  `disc_map` (which content or piece is on which disc: [disc, sha256, part]).

The required part is a pure function of the disc's layout, so the planner can size it exactly
before the image is built; only hashes of pieces are filled in later, and they have a fixed
width. SHA256SUMS lists every file of the disc but itself, in `sha256sum` format.

The planner sizes a disc many times while it fills it (`required_sizes`), so nothing is
rendered whole: each directory's lines are rendered once, their byte counts kept on the
directory (`DirNode.memo`) for as long as the directory and its paths do not change, and the
sizes are sums of those counts and the fixed text around the lists.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from odarchive.iso import names
from odarchive.iso.layout import DATA_DIR, DirNode, DiscLayout
from odarchive.iso.placed import PIECE_SUFFIX

FileLines = tuple[bool, str, str, str]

if TYPE_CHECKING:
    from odarchive.ecc.post import PlannedEcc

README_BUDGET = 6144  # bytes the planner reserves for README.md (it is never longer)
NAME_ENCODING = (
    "UDF names are the original names decoded as UTF-8; a byte that is not valid UTF-8 is "
    "written as the character U+F700+byte; a name too long for UDF is shortened with ~hash. "
    "ISO 9660 and Joliet names are mapped. odarchive.paths gives, for every file under DATA/, "
    "its ISO 9660 and Joliet paths and (as 'raw', hex) its original path bytes when they differ."
)
ZERO_HASH = "0" * 64
READ = 1 << 20


@dataclass(frozen=True)
class DiscInfo:
    archive_id: str
    disc: int
    label: str
    chunk_size: int


def _udf_rel(udf_abs: str) -> str:
    return udf_abs.lstrip("/")


quote = json.encoder.encode_basestring_ascii  # json.dumps of one string, without its per-call set-up


def dir_file_lines(layout: DiscLayout, node: DirNode, udf: str, jol: str, iso: str) -> Iterator[FileLines]:
    """The manifest lines of each file of a finalized directory (UDF, Joliet and ISO paths of the
    directory given), in order, rendered from the layout's columns (no object per file):
    (stored, `files` line or "" for a further name, `paths`/`names` line, SHA256SUMS line)."""
    sizes, mtimes, modes, primaries, shas = layout.sizes, layout.mtimes, layout.modes, layout.primaries, layout.shas
    pieces, aliases_of = layout.pieces, layout.aliases_of
    udfs, jols, isos = node.name_lists()
    udf_rel = _udf_rel(udf)
    raw_dir = DATA_DIR.encode() + (b"/" + node.raw_path if node.raw_path else b"")
    # names map to bytes character by character, so a path round-trips when its directory and name do
    dir_plain = names.raw_from_udf_text(udf_rel) == raw_dir
    src_dir = node.raw_path + b"/" if node.raw_path else b""
    for n, raw, u, j, i in zip(node.idx, node.raw_names(), udfs, jols, isos):
        sha = shas[32 * n : 32 * n + 32].hex()
        mtime = mtimes[n]
        path = f"{udf_rel}/{u}"
        entry = f'{quote(path)}: {{"sha256": "{sha}"'
        piece = pieces.get(n)
        if piece is None:
            src, size, sums_sha = src_dir + raw, sizes[n], sha
        else:
            part, offset, size, piece_sha = piece
            part_sha = piece_sha.hex() if piece_sha else ZERO_HASH
            src, sums_sha = src_dir + raw[: -len(PIECE_SUFFIX.format(part))], part_sha
            entry += f', "part": {part}, "offset": {offset}, "length": {sizes[n]}, "part_sha256": "{part_sha}"'
        entry += (
            f', "mode": {modes[n]}, "mtime_ns": {mtime}, "iso": {quote(f"{iso}/{i}")}, "joliet": {quote(f"{jol}/{j}")}'
        )
        if not (dir_plain and names.raw_from_udf_text(u) == raw):
            entry += f', "raw": "{(raw_dir + b"/" + raw).hex()}"'
        entry += "}"
        stored = primaries[n] < 0
        files = ""
        if stored:
            more = aliases_of.get(n)
            also = [layout.file_view(a).raw_path for a in more] if more else []
            filenames = ", ".join(f"{quote(names.udf_text(r))}: null" for r in (src, *also))
            files = f'"{sha}": {{"filenames": {{{filenames}}}, "size": {size}, "mtime": {mtime / 1e9!r}}}'
        yield stored, files, entry, sha256sums_line(sums_sha, path)


@dataclass
class Section:
    """An optional part of catalogue.json: `"<name>_complete": bool, "<name>": [...] or {...}`,
    filled item by item (rendered JSON, ASCII) while its cost stays within a budget. The items
    go to `spool` (in memory by default; the builder gives a temporary file, since the reserve
    of a large disc is hundreds of MB)."""

    name: str
    opener: str  # "[" (items are values) or "{" (items are '"key": value')
    spool: BinaryIO = field(default_factory=io.BytesIO)
    complete: bool = True
    body: int = 0  # bytes of the lines and their separators
    count: int = 0  # lines added

    def _frame(self, complete: bool) -> str:
        return f',\n"{self.name}_complete": {json.dumps(complete)},\n"{self.name}": {self.opener}\n'

    def __post_init__(self) -> None:
        self._fixed = len(self._frame(False)) + 2  # the frame and the closing "\n]" or "\n}"

    def cost(self) -> int:
        """Bytes this section adds (counted with `false`, the longer of the two flags)."""
        return self._fixed + self.body

    def add(self, line: str, room: int) -> bool:
        """Add `line` if the section then costs at most `room`; else mark it incomplete."""
        step = len(line) + (2 if self.count else 0)
        if self.cost() + step > room:
            self.complete = False
            return False
        self.spool.write(((",\n" if self.count else "") + line).encode("ascii"))
        self.count += 1
        self.body += step
        return True

    def pieces(self) -> Iterator[str]:
        yield self._frame(self.complete)
        self.spool.seek(0)
        while data := self.spool.read(READ):
            yield data.decode("ascii")
        yield "\n" + ("]" if self.opener == "[" else "}")

    def render(self) -> str:
        return "".join(self.pieces())

    def close(self) -> None:
        self.spool.close()


SEP = ",\n"  # between the lines of a list
LINES_AT_ONCE = 1024  # files whose manifest lines are gathered before they are written


def _frame(info: DiscInfo) -> tuple[str, str, str, str]:
    """The fixed text of catalogue.json's required part around its three lists of lines:
    before `files`, between `files` and `paths`, between `paths` and `names`, after `names`."""
    head = {
        "format": 1,
        "archive_id": info.archive_id,
        "disc": info.disc,
        "label": info.label,
        "data_dir": DATA_DIR,
        "chunk_size": info.chunk_size,
        "piece_suffix": PIECE_SUFFIX,
        "name_encoding": NAME_ENCODING,
    }
    mid = "\n},\n" + '"odarchive": ' + json.dumps(head)[:-1] + ',\n"paths": {\n'
    return '{"version": 1,\n"files": {\n', mid, '\n},\n"names": {\n', "\n}"


def catalogue_json_pieces(
    layout: DiscLayout,
    info: DiscInfo,
    spool: Callable[[], BinaryIO] = io.BytesIO,
    sums: Callable[[str], object] | None = None,
) -> Iterator[str]:
    """catalogue.json up to its optional sections, in pieces (so a builder can stream it), from
    one pass over the layout: the `files` lines as they come, the `paths` and `names` lines
    through two `spool()` files; each file's SHA256SUMS line goes to `sums` on the way."""
    start, mid, between, end = _frame(info)
    yield start
    later = (spool(), spool())  # paths, names
    try:
        counts = [0, 0, 0]  # lines so far: files, paths, names
        lines: tuple[list[str], list[str], list[str], list[str]] = ([], [], [], [])  # the same, and SHA256SUMS

        def flush() -> Iterator[str]:
            """The gathered lines: the files lines yielded, the rest written (a batch at a time)."""
            for k, batch in enumerate(lines[:3]):
                if batch:
                    text = (SEP if counts[k] else "") + SEP.join(batch)
                    counts[k] += len(batch)
                    if k:
                        later[k - 1].write(text.encode("ascii"))
                    else:
                        yield text
            if sums is not None:
                sums("".join(lines[3]))
            for batch in lines:
                batch.clear()

        for node, udf, jol, iso in layout.dirs():
            for stored, files, entry, sums_line in dir_file_lines(layout, node, udf, jol, iso):
                if stored:
                    lines[0].append(files)
                    lines[1].append(entry)
                else:
                    lines[2].append(entry)
                lines[3].append(sums_line)
                if len(lines[3]) == LINES_AT_ONCE:
                    yield from flush()
        yield from flush()
        for text, spooled in ((mid, later[0]), (between, later[1])):
            yield text
            spooled.seek(0)
            while data := spooled.read(READ):
                yield data.decode("ascii")
    finally:
        for f in later:
            f.close()
    yield end


CATALOGUE_END = "}}\n"  # closes the odarchive section and the document, after the optional sections


def sections_room(free: int) -> int:
    """The bytes the optional sections may take when `free` bytes may follow catalogue.json's
    required part (`catalogue_json_pieces`): the closing braces come after them."""
    return free - len(CATALOGUE_END)


def catalogue_json_end(sections: Iterable[Section] = ()) -> Iterator[str]:
    """The optional sections and the closing braces of catalogue.json, in pieces."""
    for section in sections:
        yield from section.pieces()
    yield CATALOGUE_END


def catalogue_json(layout: DiscLayout, info: DiscInfo, sections: Iterable[Section] = ()) -> str:
    return "".join(catalogue_json_pieces(layout, info)) + "".join(catalogue_json_end(sections))


def _escape(path: str) -> tuple[str, str]:
    if "\\" in path or "\n" in path:
        return "\\", path.replace("\\", "\\\\").replace("\n", "\\n")
    return "", path


def sha256sums_line(sha_hex: str, path: str) -> str:
    prefix, p = _escape(path)
    return f"{prefix}{sha_hex}  {p}\n"


def sha256sums_pieces(layout: DiscLayout) -> Iterator[str]:
    """SHA256SUMS lines of the data files (pieces by their own hash)."""
    for node, udf, jol, iso in layout.dirs():
        for *_, line in dir_file_lines(layout, node, udf, jol, iso):
            yield line


def sha256sums(layout: DiscLayout, extra: Iterable[tuple[str, str]] = ()) -> str:
    """SHA256SUMS of the data files plus `extra` (hex, path) lines first."""
    return "".join(sha256sums_line(h, p) for h, p in extra) + "".join(sha256sums_pieces(layout))


def manifest_extra() -> Iterator[tuple[str, str]]:
    """Placeholder (hash, path) lines for README.md and catalogue.json in SHA256SUMS."""
    yield ZERO_HASH, "README.md"
    yield ZERO_HASH, "catalogue.json"


@dataclass(frozen=True, slots=True)
class _DirLines:
    """What one directory's files add to the manifests, in bytes and lines (a `DirNode.memo`),
    for the directory's `version` and paths in `key`."""

    key: tuple[int, str, str, str]
    files: int  # files-entry lines (one a stored file)
    paths: int  # paths-entry lines (one a stored file)
    stored: int
    names: int  # names-entry lines (one a further name)
    n_names: int
    sums: int  # SHA256SUMS lines (UTF-8)


def _dir_lines(node: DirNode, udf: str, jol: str, iso: str) -> _DirLines:
    key = (node.version, udf, jol, iso)
    memo = node.memo
    if isinstance(memo, _DirLines) and memo.key == key:
        return memo
    files = paths = stored = names = n_names = sums = 0
    for is_stored, files_line, entry_line, sums_line in dir_file_lines(node.layout, node, udf, jol, iso):
        if is_stored:
            files, paths, stored = files + len(files_line), paths + len(entry_line), stored + 1
        else:
            names, n_names = names + len(entry_line), n_names + 1
        sums += len(sums_line.encode())
    node.memo = lines = _DirLines(key, files, paths, stored, names, n_names, sums)
    return lines


def required_sizes(layout: DiscLayout, info: DiscInfo, reserve: int) -> dict[str, int]:
    """Manifest sizes the planner accounts for: README budget, catalogue.json's required part
    (`catalogue_json` without sections: every line is ASCII) + reserve, SHA256SUMS; summed
    from each directory's line counts, without rendering the files whole."""
    parts = [_dir_lines(node, udf, jol, iso) for node, udf, jol, iso in layout.dirs()]
    stored, n_names = sum(d.stored for d in parts), sum(d.n_names for d in parts)
    cat = sum(map(len, _frame(info))) + len(CATALOGUE_END)
    cat += sum(d.files + d.paths + d.names for d in parts)
    cat += len(SEP) * (2 * max(stored - 1, 0) + max(n_names - 1, 0))
    sums = sum(len(sha256sums_line(h, p).encode()) for h, p in manifest_extra()) + sum(d.sums for d in parts)
    return {"README.md": README_BUDGET, "catalogue.json": cat + reserve, "SHA256SUMS": sums}


_REPAIR_RS02 = """
## Repairing it

Behind its file system this disc carries Reed-Solomon error correction over every sector
of the image (dvdisaster's RS02 format: {roots} roots, {percent}% redundancy). A scratched or
ageing disc can be repaired with dvdisaster (free software, e.g. the Debian package
`dvdisaster`), as long as no more than about {roots} of every 255 sectors are damaged:

    dvdisaster -d /dev/sr0 -i disc.iso -r    # read the disc, ECC included, into disc.iso
    dvdisaster -i disc.iso -f                # repair disc.iso with its error correction
    dvdisaster -i disc.iso -t                # check: it must report a good image

Then read the files from disc.iso (`7zz x -tudf disc.iso`, or `mount -o loop disc.iso`)
and check them with SHA256SUMS as above. With odarchive: `odarchive repair disc.iso`.
"""

_REPAIR_RS03 = """
## Repairing it

Behind its file system this disc carries Reed-Solomon error correction over every sector:
the disc is the file system's sectors (as many as its ISO 9660 volume declares) followed by
a dvdisaster RS03 error correction file ({roots} roots, {percent}% redundancy). A scratched
or ageing disc can be repaired with dvdisaster (free software, e.g. the Debian package
`dvdisaster`), as long as no more than about {roots} of every 255 sectors are damaged:

    ddrescue -b 2048 /dev/sr0 disc.iso disc.map    # read all of the disc; lost sectors stay zero
    N=$(isoinfo -d -i disc.iso | sed -n 's/^Volume size is: //p')    # the file system's sectors
    dd if=disc.iso of=disc.ecc bs=2048 skip=$N && truncate -s $((N * 2048)) disc.iso
    dvdisaster -i disc.iso -e disc.ecc -f    # repair; again until a pass repairs no more sectors
    dvdisaster -i disc.iso -e disc.ecc -t    # check: it must report a good image

Then read the files from disc.iso (`7zz x -tudf disc.iso`, or `mount -o loop disc.iso`)
and check them with SHA256SUMS as above. With odarchive: `odarchive repair IMAGE` does all
of this on the whole image.
"""


def readme(info: DiscInfo, n_files: int, data_bytes: int, discs_planned: int, ecc: PlannedEcc | None = None) -> str:
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
    if ecc is not None:
        section = _REPAIR_RS03 if ecc.format == "RS03" else _REPAIR_RS02
        text += section.format(roots=ecc.roots, percent=round(ecc.roots * 100 / (255 - ecc.roots), 1))
    assert len(text.encode()) <= README_BUDGET
    return text
