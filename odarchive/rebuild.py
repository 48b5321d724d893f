"""Rebuilding a catalogue from disc images alone (disaster recovery).

Every odarchive disc carries its own catalogue.json (what is on it, where, under which
names) and the part of the archive's disc map that fitted. `rebuild` reads those, checks
every field (a disc found in a drawer is untrusted input: paths that escape, wrong types,
mixed archives are refused with the disc and entry named, and nothing is written), asks the
image itself for each file's extents, and writes into an empty home: contents, discs,
placements with extents, and one snapshot per root name holding every file the discs name.
When two discs name the same path with different contents, the higher disc number (planned
later, so newer) wins. After it, `get_info` and `restore --images DIR` work as before.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from odarchive.catalogue import Catalogue
from odarchive.catalogue.seedjson import TreeBuilder, path_problem
from odarchive.errors import InputError
from odarchive.iso import names
from odarchive.iso.reader import DiscImage
from odarchive.progress import NullReporter, Reporter

HEX64 = re.compile(r"[0-9a-f]{64}\Z")
PIECE = re.compile(rb"\.part(\d{3,})\Z")


@dataclass
class RebuildReport:
    discs: list[int] = field(default_factory=list)
    files: int = 0
    contents: int = 0
    placements: int = 0


class _Bad(Exception):
    pass


def _check(cond: bool, what: str) -> None:
    if not cond:
        raise _Bad(what)


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _archived(udf_text: str) -> bytes:
    raw = names.raw_from_udf_text(udf_text)
    problem = path_problem(os.fsdecode(raw))
    _check(problem is None, f"path {udf_text!r}: {problem}")
    return raw


def read_disc(image: DiscImage) -> dict[str, Any]:
    """The validated contents of one disc's catalogue.json (raises _Bad naming the problem)."""
    doc = image.catalogue()
    head, files, paths = doc.get("odarchive"), doc.get("files"), doc.get("paths") or (doc.get("odarchive") or {}).get("paths")
    _check(isinstance(head, dict), "no 'odarchive' section")
    _check(isinstance(files, dict) and isinstance(paths, dict), "no 'files' or 'paths'")
    _check(isinstance(head.get("archive_id"), str) and _int(head.get("disc")) and isinstance(head.get("label"), str),
           "archive_id, disc or label missing or of the wrong type")
    _check(head.get("data_dir") == "DATA", "data_dir is not DATA")
    contents: dict[str, tuple[int, int]] = {}
    for sha, item in files.items():
        _check(isinstance(sha, str) and bool(HEX64.match(sha)), f"files key {sha!r} is not a SHA-256")
        _check(isinstance(item, dict) and _int(item.get("size")), f"files[{sha}]: size missing or not a number")
        mtime = item.get("mtime")
        _check(mtime is None or (isinstance(mtime, (int, float)) and not isinstance(mtime, bool)), f"files[{sha}].mtime")
        contents[sha] = (item["size"], int((mtime or 0) * 1e9))
    placed = []
    for udf_rel, p in paths.items():
        _check(isinstance(udf_rel, str) and isinstance(p, dict), f"paths entry {udf_rel!r} is not an object")
        sha = p.get("sha256")
        _check(sha in contents, f"paths[{udf_rel!r}]: sha256 not among the disc's files")
        raw_hex = p.get("raw")
        if raw_hex is not None:
            _check(isinstance(raw_hex, str) and bool(re.fullmatch(r"(?:[0-9a-f]{2})+", raw_hex)), f"paths[{udf_rel!r}].raw")
            on_disc = bytes.fromhex(raw_hex)
        else:
            on_disc = names.raw_from_udf_text(udf_rel)
        _check(on_disc.startswith(b"DATA/"), f"paths[{udf_rel!r}] is not under DATA/")
        rel = on_disc[len(b"DATA/"):]
        size = contents[sha][0]
        part = p.get("part", 0)
        _check(_int(part), f"paths[{udf_rel!r}].part")
        if part:
            m = PIECE.search(rel)
            _check(m is not None and int(m.group(1)) == part, f"paths[{udf_rel!r}]: part {part} not in the name")
            rel = rel[: m.start()]
            offset, length, part_sha = p.get("offset"), p.get("length"), p.get("part_sha256")
            _check(_int(offset) and _int(length) and offset + length <= size, f"paths[{udf_rel!r}]: offset/length")
            _check(isinstance(part_sha, str) and bool(HEX64.match(part_sha)), f"paths[{udf_rel!r}].part_sha256")
        else:
            offset, length, part_sha = 0, size, None
        problem = path_problem(os.fsdecode(rel))
        _check(problem is None, f"paths[{udf_rel!r}]: {problem}")
        placed.append((udf_rel, sha, part, offset, length, part_sha, rel))
    others = head.get("other_filenames") or doc.get("other_filenames") or {}
    _check(isinstance(others, dict), "other_filenames is not an object")
    other_paths = []
    for sha, lst in others.items():
        _check(sha in contents and isinstance(lst, list) and all(isinstance(x, str) for x in lst),
               f"other_filenames[{sha!r}]")
        other_paths += [(sha, _archived(x)) for x in lst]
    return {"head": head, "contents": contents, "placed": placed, "others": other_paths}


def rebuild(cat: Catalogue, images: list[Path], reporter: Reporter | None = None) -> RebuildReport:
    reporter = reporter or NullReporter()
    if cat.conn.execute("SELECT (SELECT count(*) FROM sources) + (SELECT count(*) FROM discs)").fetchone()[0]:
        raise InputError(f"{cat.path} is not empty; rebuild writes only into an empty home",
                         hint="run rebuild with --home pointing to a new, empty directory")
    discs: list[tuple[Path, dict[str, Any]]] = []
    reporter.start("read", total_items=len(images))
    for path in images:
        with DiscImage(path) as image:
            try:
                disc = read_disc(image)
                disc["extents"] = {u: image.extents("/" + u) for u, *_ in disc["placed"]}
            except _Bad as e:
                raise InputError(f"{path}: catalogue.json rejected: {e}; nothing was written",
                                 hint="this image is damaged or not an odarchive disc; leave it out") from None
        discs.append((path, disc))
        reporter.advance(items=1)
    reporter.finish()
    ids = {d["head"]["archive_id"] for _, d in discs}
    if len(ids) > 1:
        raise InputError(f"the images belong to {len(ids)} different archives ({', '.join(sorted(ids))}); nothing was written")
    numbers = [d["head"]["disc"] for _, d in discs]
    if len(set(numbers)) != len(numbers):
        raise InputError("two images carry the same disc number; give each disc once")
    report = RebuildReport()
    with cat.transaction() as conn:
        conn.execute("UPDATE meta SET value=? WHERE key='archive_id'", (ids.pop() if ids else "",))
        conn.execute("CREATE TEMP TABLE rpaths (path BLOB PRIMARY KEY, content_id INT, mtime_ns INT, disc INT)")
        for path, d in sorted(discs, key=lambda x: x[1]["head"]["disc"]):
            _write_disc(conn, path, d, report)
        builder = TreeBuilder(conn, time.time_ns())
        for raw, cid, mtime_ns in conn.execute("SELECT path, content_id, mtime_ns FROM rpaths ORDER BY path").fetchall():
            size = conn.execute("SELECT size FROM contents WHERE id=?", (cid,)).fetchone()[0]
            builder.add_file(bytes(raw), size, mtime_ns, cid)
            report.files += 1
        builder.complete()
        conn.execute("DROP TABLE temp.rpaths")
    report.contents = cat.conn.execute("SELECT count(*) FROM contents").fetchone()[0]
    return report


def _write_disc(conn: Any, path: Path, d: dict[str, Any], report: RebuildReport) -> None:
    head = d["head"]
    disc = head["disc"]
    size = path.stat().st_size
    conn.execute(
        "INSERT INTO discs (id, label, capacity_bytes, used_bytes, state, planned_ns, image_name, image_size, written_ns)"
        " VALUES (?, ?, ?, ?, 'written', ?, ?, ?, ?)",
        (disc, head["label"], size, size, time.time_ns(), path.name, size, int(path.stat().st_mtime_ns)),
    )
    ids: dict[str, int] = {}
    for sha, (csize, _mtime) in d["contents"].items():
        conn.execute("INSERT OR IGNORE INTO contents (sha256, size) VALUES (?, ?)", (bytes.fromhex(sha), csize))
        ids[sha] = conn.execute("SELECT id FROM contents WHERE sha256=?", (bytes.fromhex(sha),)).fetchone()[0]
    for udf_rel, sha, part, offset, length, part_sha, rel in d["placed"]:
        cid = ids[sha]
        mtime_ns = d["contents"][sha][1]
        conn.execute(
            "INSERT OR REPLACE INTO placements (content_id, piece, disc_id, offset, length, path_on_disc, raw_path,"
            " mtime_ns, sha256) VALUES (?,?,?,?,?,?,?,?,?)",
            (cid, part, disc, offset, length, ("/" + udf_rel).encode(), rel, mtime_ns,
             bytes.fromhex(part_sha) if part_sha else None),
        )
        conn.executemany("INSERT OR REPLACE INTO extents (content_id, piece, seq, image_offset, length) VALUES (?,?,?,?,?)",
                         [(cid, part, i, off, n) for i, (off, n) in enumerate(d["extents"][udf_rel])])
        _remember(conn, rel, cid, mtime_ns, disc)
        report.placements += 1
    for sha, rel in d["others"]:
        _remember(conn, rel, ids[sha], d["contents"][sha][1], disc)
    report.discs.append(disc)


def _remember(conn: Any, rel: bytes, cid: int, mtime_ns: int, disc: int) -> None:
    conn.execute(
        "INSERT INTO rpaths VALUES (?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET content_id=excluded.content_id,"
        " mtime_ns=excluded.mtime_ns, disc=excluded.disc WHERE excluded.disc > rpaths.disc",
        (rel, cid, mtime_ns, disc),
    )
