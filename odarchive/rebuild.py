"""Rebuilding a catalogue from disc images alone (disaster recovery).

Every odarchive disc carries its own catalogue.json (what is on it, where, under which
names) and the part of the archive's disc map that fitted. `rebuild` reads those, checks
every field (a disc found in a drawer is untrusted input: paths that escape, wrong types,
mixed archives are refused with the disc and entry named, and nothing is written), asks the
image itself for each file's extents, and writes into an empty home: contents, discs,
placements with extents, and one snapshot per root name holding every file the discs name.
Files keep their modes and mtimes; the discs' `tree` sections bring back directories (modes,
mtimes, empty ones) and symlinks, as far as each disc's reserve held them. When two discs name
the same path differently, the higher disc number (planned later, so newer) wins. After it,
`get_info` and `restore --images DIR` work as before.
"""

from __future__ import annotations

import os
import re
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from odarchive import rebuild_attrs
from odarchive.catalogue import Catalogue, rebuilding
from odarchive.catalogue import contents as content_rows
from odarchive.catalogue.seedjson import FILE_MODE, TreeBuilder, path_problem
from odarchive.errors import DiscError, InputError
from odarchive.iso import names
from odarchive.iso.reader import DiscImage
from odarchive.limits import MAX_DISC, count_problem, mode_problem, mtime_ns_problem, seconds_problem
from odarchive.progress import NullReporter, Reporter
from odarchive.shown import quote

HEX64 = re.compile(r"[0-9a-f]{64}\Z")
PIECE = re.compile(rb"\.part(\d{3,})\Z")


@dataclass
class RebuildReport:
    discs: list[int] = field(default_factory=list)
    files: int = 0
    contents: int = 0
    placements: int = 0
    conflicts: list[str] = field(default_factory=list)  # paths left out: discs disagree on their kind
    names_incomplete: list[int] = field(default_factory=list)  # discs whose reserve did not hold every name


class _Bad(Exception):
    pass


def _check(cond: bool, what: str) -> None:
    if not cond:
        raise _Bad(what)


def _object(value: object, what: str) -> dict[str, Any]:
    """`value` if it is a JSON object, else _Bad(what)."""
    if not isinstance(value, dict):
        raise _Bad(what)
    return value


def _number(problem: str | None, what: str) -> None:
    """Refuse a number that is not of its type and range (`odarchive.limits`)."""
    _check(problem is None, f"{what}: {problem}")


def _archived(udf_text: str) -> bytes:
    raw = names.raw_from_udf_text(udf_text)
    problem = path_problem(os.fsdecode(raw))
    _check(problem is None, f"path {quote(udf_text)}: {problem}")
    return raw


def read_disc(image: DiscImage) -> dict[str, Any]:
    """The validated contents of one disc's catalogue.json (raises _Bad naming the problem)."""
    doc = image.catalogue()
    head = _object(doc.get("odarchive"), "no 'odarchive' section")
    files = _object(doc.get("files"), "no 'files' or 'paths'")
    paths = _object(doc.get("paths") or head.get("paths"), "no 'files' or 'paths'")
    _check(
        isinstance(head.get("archive_id"), str)
        and isinstance(head.get("label"), str)
        and len(head["archive_id"]) <= 100
        and len(head["label"]) <= 100,
        "archive_id or label missing, of the wrong type or over 100 characters",
    )
    _number(count_problem(head.get("disc"), MAX_DISC), "disc number")
    _check(
        isinstance(head.get("other_filenames_complete", True), bool), "other_filenames_complete is not true or false"
    )
    _check(head.get("data_dir") == "DATA", "data_dir is not DATA")
    contents: dict[str, tuple[int, int]] = {}
    for sha, item in files.items():
        _check(isinstance(sha, str) and bool(HEX64.match(sha)), f"files key {quote(sha)} is not a SHA-256")
        _check(isinstance(item, dict), f"files[{sha}] is not an object")
        _number(count_problem(item.get("size")), f"files[{sha}].size")
        mtime = item.get("mtime")
        if mtime is not None:
            _number(seconds_problem(mtime), f"files[{sha}].mtime")
        contents[sha] = (item["size"], int((mtime or 0) * 1e9))
    placed = [_path_entry("paths", udf_rel, p, contents) for udf_rel, p in paths.items()]
    further = _object(
        head.get("names") or {}, "names is not an object"
    )  # further names of contents stored once on this disc
    other_paths = []
    for udf_rel, p in further.items():
        _udf, sha, part, _o, _l, _s, rel, mode, mtime_ns = _path_entry("names", udf_rel, p, contents)
        _check(part == 0, f"names[{quote(udf_rel)}]: a further name of a piece")
        other_paths.append((sha, rel, mode, mtime_ns))
    others = _object(
        head.get("other_filenames") or doc.get("other_filenames") or {}, "other_filenames is not an object"
    )
    for sha, lst in others.items():
        where = f"other_filenames[{quote(sha)}]"
        _check(sha in contents and isinstance(lst, list), f"{where}: not a list for a content of the disc")
        for item in lst:  # [path, mode, mtime_ns] (or a bare path)
            if isinstance(item, str):
                item = [item, FILE_MODE, contents[sha][1]]
            _check(
                isinstance(item, list) and len(item) == 3 and isinstance(item[0], str),
                f"{where}: {quote(repr(item))} is not [path, mode, mtime_ns]",
            )
            _number(mode_problem(item[1]), f"{where}: {quote(item[0])}: mode")
            _check(stat.S_ISREG(item[1]), f"{where}: {quote(item[0])}: mode is not a regular file's")
            _number(mtime_ns_problem(item[2]), f"{where}: {quote(item[0])}: mtime_ns")
            other_paths.append((sha, _archived(item[0]), item[1], item[2]))
    return {
        "head": head,
        "contents": contents,
        "placed": placed,
        "others": other_paths,
        "tree": _tree(head.get("tree") or []),
        "attributes": rebuild_attrs.parse(head.get("attributes") or [], _check),
    }


def _path_entry(section: str, udf_rel: Any, p: Any, contents: dict[str, tuple[int, int]]) -> tuple:
    """One entry of `paths` or `names`: (udf path, sha, part, offset, length, part sha, archived
    path, mode, mtime_ns), every field checked."""
    where = f"{section}[{quote(udf_rel) if isinstance(udf_rel, str) else '?'}]"
    _check(isinstance(udf_rel, str) and isinstance(p, dict), f"{where} is not an object")
    sha = p.get("sha256")
    _check(isinstance(sha, str) and sha in contents, f"{where}: sha256 not among the disc's files")
    raw_hex = p.get("raw")
    if raw_hex is not None:
        _check(isinstance(raw_hex, str) and bool(re.fullmatch(r"(?:[0-9a-f]{2})+", raw_hex)), f"{where}.raw")
        on_disc = bytes.fromhex(raw_hex)
    else:
        on_disc = names.raw_from_udf_text(udf_rel)
    _check(on_disc.startswith(b"DATA/"), f"{where} is not under DATA/")
    rel = on_disc[len(b"DATA/") :]
    size = contents[sha][0]
    part = p.get("part", 0)
    _number(count_problem(part, MAX_DISC), f"{where}.part")
    if part:
        m = PIECE.search(rel)
        if m is None or int(m.group(1)) != part:
            raise _Bad(f"{where}: part {part} not in the name")
        rel = rel[: m.start()]
        offset, length, part_sha = p.get("offset"), p.get("length"), p.get("part_sha256")
        _number(count_problem(offset), f"{where}.offset")
        _number(count_problem(length), f"{where}.length")
        _check(offset + length <= size, f"{where}: offset + length beyond the content's size")
        _check(isinstance(part_sha, str) and bool(HEX64.match(part_sha)), f"{where}.part_sha256")
    else:
        offset, length, part_sha = 0, size, None
    problem = path_problem(os.fsdecode(rel))
    _check(problem is None, f"{where}: {problem}")
    mode, mtime_ns = p.get("mode", FILE_MODE), p.get("mtime_ns", contents[sha][1])
    _number(mode_problem(mode), f"{where}.mode")
    _check(stat.S_ISREG(mode), f"{where}.mode: not a regular file's")
    _number(mtime_ns_problem(mtime_ns), f"{where}.mtime_ns")
    return udf_rel, sha, part, offset, length, part_sha, rel, mode, mtime_ns


def _tree(lines: Any) -> list[tuple[bytes, str, int, int, bytes | None]]:
    """The disc's `tree` section: directories and symlinks as (path, kind, mode, mtime_ns, target)."""
    _check(isinstance(lines, list), "tree is not a list")
    out = []
    for line in lines:
        where = f"tree line {quote(repr(line), 80)}"
        _check(isinstance(line, list) and len(line) == 6, where)
        kind, text, mode, mtime_ns, target, raw_hex = line
        _check(kind in ("d", "l") and isinstance(text, str), where)
        _number(mode_problem(mode), f"{where}: mode")
        _number(mtime_ns_problem(mtime_ns), f"{where}: mtime_ns")
        _check(stat.S_ISDIR(mode) if kind == "d" else stat.S_ISLNK(mode), f"{where}: mode")
        if raw_hex is not None:
            _check(isinstance(raw_hex, str) and bool(re.fullmatch(r"(?:[0-9a-f]{2})+", raw_hex)), "tree raw")
            raw = bytes.fromhex(raw_hex)
        else:
            raw = names.raw_from_udf_text(text)
        parts = raw.split(b"/")
        _check(
            all(p not in (b"", b".", b"..") and b"\0" not in p and len(p) <= 255 for p in parts),
            f"tree path {quote(text)}: empty, '.', '..' or NUL component",
        )
        if kind == "l":
            _check(isinstance(target, str) and len(parts) > 1 and len(target) <= 4096, f"tree symlink {quote(text)}")
            target_raw = names.raw_from_udf_text(target)
            _check(b"\0" not in target_raw, f"tree symlink {quote(text)}: NUL in target")
        else:
            target_raw = None
        out.append((raw, kind, mode, mtime_ns, target_raw))
    return out


def read_discs(images: list[Path], reporter: Reporter | None = None) -> list[tuple[Path, dict[str, Any]]]:
    """Every image's validated catalogue and extents; refuses (InputError, naming the image and
    the entry) anything malformed, hostile or mixed before a home is touched."""
    reporter = reporter or NullReporter()
    discs: list[tuple[Path, dict[str, Any]]] = []
    reporter.start("read", total_items=len(images))
    for path in images:
        with DiscImage(path) as image:
            try:
                disc = read_disc(image)
                disc["extents"] = {u: image.extents("/" + u) for u, *_ in disc["placed"]}
            except (_Bad, DiscError) as e:
                raise InputError(
                    f"{path}: catalogue.json rejected: {e}; nothing was written",
                    hint="this image is damaged or not an odarchive disc; leave it out",
                ) from None
        discs.append((path, disc))
        reporter.advance(items=1)
    reporter.finish()
    ids = {d["head"]["archive_id"] for _, d in discs}
    if len(ids) > 1:
        shown = ", ".join(quote(i, 40) for i in sorted(ids)[:5])
        raise InputError(f"the images belong to {len(ids)} different archives ({shown}); nothing was written")
    numbers = [d["head"]["disc"] for _, d in discs]
    if len(set(numbers)) != len(numbers):
        raise InputError("two images carry the same disc number; give each disc once")
    return discs


def rebuild(cat: Catalogue, discs: list[tuple[Path, dict[str, Any]]]) -> RebuildReport:
    """Write the discs read by `read_discs` into the empty catalogue `cat`."""
    if not rebuilding.is_empty(cat.conn):
        raise InputError(
            f"{cat.path} is not empty; rebuild writes only into an empty home",
            hint="run rebuild with --home pointing to a new, empty directory",
        )
    report = RebuildReport()
    with cat.transaction() as conn:
        cat.set_meta("archive_id", discs[0][1]["head"]["archive_id"] if discs else "")
        nodes = rebuilding.Nodes(conn)
        for path, d in sorted(discs, key=lambda x: x[1]["head"]["disc"]):
            _write_disc(conn, nodes, path, d, report)
        _build_tree(conn, nodes, report)
        nodes.close()
        attrs: dict[bytes, rebuild_attrs.Attrs] = {}
        for _path, d in sorted(discs, key=lambda x: x[1]["head"]["disc"]):  # the newest disc wins
            attrs.update(d["attributes"])
        rebuild_attrs.record(cat, attrs)
    report.contents = content_rows.count(cat.conn)
    return report


def _build_tree(conn: Any, nodes: rebuilding.Nodes, report: RebuildReport) -> None:
    """One snapshot per root from every path the discs name; where discs disagree about a
    path (a file on an old disc, a directory on a newer one) the newest disc wins."""
    builder = TreeBuilder(conn, time.time_ns())
    for raw, kind, cid, mode, mtime_ns, target in nodes.newest_first():
        try:
            if kind == "f":
                assert cid is not None, "a file's node names its content"
                builder.add_file(raw, content_rows.get(conn, cid)[1], mtime_ns, cid, mode)
                report.files += 1
            elif kind == "d":
                builder.add_dir(raw, mode, mtime_ns)
            else:
                builder.add_symlink(raw, target or b"", mode, mtime_ns)
        except InputError:
            report.conflicts.append(os.fsdecode(raw))
    builder.complete()


def _write_disc(conn: Any, nodes: rebuilding.Nodes, path: Path, d: dict[str, Any], report: RebuildReport) -> None:
    head = d["head"]
    disc = head["disc"]
    st = path.stat()
    rebuilding.add_written_disc(conn, disc, head["label"], path.name, st.st_size, int(st.st_mtime_ns))
    ids: dict[str, int] = {}
    for sha, (csize, _mtime) in d["contents"].items():
        content_rows.add(conn, [(bytes.fromhex(sha), csize)])
        cid = content_rows.id_of(conn, bytes.fromhex(sha))
        assert cid is not None, "a content just added has an id"
        ids[sha] = cid
    for udf_rel, sha, part, offset, length, part_sha, rel, mode, mtime_ns in d["placed"]:
        cid = ids[sha]
        rebuilding.add_placement(
            conn,
            cid,
            part,
            disc,
            offset,
            length,
            ("/" + udf_rel).encode(),
            rel,
            mtime_ns,
            bytes.fromhex(part_sha) if part_sha else None,
            d["extents"][udf_rel],
        )
        nodes.remember(rel, "f", cid, mode, mtime_ns, None, disc)
        report.placements += 1
    for sha, rel, mode, mtime_ns in d["others"]:
        nodes.remember(rel, "f", ids[sha], mode, mtime_ns, None, disc)
    for raw, kind, mode, mtime_ns, target in d["tree"]:
        nodes.remember(raw, kind, None, mode, mtime_ns, target, disc)
    report.discs.append(disc)
    if head.get("other_filenames_complete") is False:
        report.names_incomplete.append(disc)
