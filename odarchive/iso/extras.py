"""The optional parts of a disc's catalogue.json, filled from the catalogue at build time.

In order of use for recovering an archive from its discs alone, each as far as the room left
in the disc's reserve allows (`manifest.Section`; `<name>_complete` says whether all fitted):

1. `other_filenames`: the names of this disc's contents in the latest scan that its trees do
   not show (every further name of a content stored whole is in the trees and in
   `odarchive.names`, planned exactly; this holds the names of pieces and names added after
   planning), each as [path, mode, mtime_ns]; `other_filenames_complete` is true only when all
   fitted.
2. `tree`: the directories holding this disc's files (and their ancestors), with their
   symlinks and subdirectories, from the source's latest complete snapshot:
   [kind, path, mode, mtime_ns, symlink target, raw path hex or null].
3. `attributes`: what tar and rsync -a keep beyond mode and mtime, for the files of this disc
   (every name of their contents) and the directories of `tree`, where the catalogue knows it:
   [path, raw path hex or null, uid, gid, user, group, xattrs {name: base64} or null,
   hard-link group (st_ino, the same for every name of one inode) or null]. Version-1 readers
   ignore it.
4. `disc_map`: which content or piece is on which disc, [disc, sha256, part], whole archive.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Callable, Container, Iterator
from typing import BinaryIO

from odarchive.catalogue import Catalogue, attributes, images, owners, plans, xattrs
from odarchive.catalogue.tree import child_dir, dir_path, list_dir_except_files, resolve
from odarchive.iso.layout import DiscLayout
from odarchive.iso.manifest import Section, quote
from odarchive.iso.names import raw_from_udf_text, udf_text
from odarchive.iso.placed import PIECE_SUFFIX

ATTRIBUTE_BATCH = 500  # contents whose attributes one query reads
OWNERS_KEPT = 4096  # rendered owners (and xattr sets) kept while the lines are written


def optional_sections(
    cat: Catalogue, layout: DiscLayout, room: int, spool: Callable[[], BinaryIO] = io.BytesIO
) -> list[Section]:
    """The sections, filled within `room` bytes; each spools its lines to a `spool()` file
    (the caller closes the sections)."""
    sections = [
        Section(name, opener, spool())
        for name, opener in (("other_filenames", "{"), ("tree", "["), ("attributes", "["), ("disc_map", "["))
    ]
    if room <= sum(s.cost() for s in sections):
        for section in sections:
            section.close()
        return []
    room -= sum(s.cost() for s in sections)
    fillers = (
        _other_filename_lines(cat, layout),
        _tree_lines(cat, layout),
        _attribute_lines(cat, layout),
        _disc_map_lines(cat),
    )
    for section, lines in zip(sections, fillers):
        base = section.cost()
        for line in lines:
            # names of one content that do not fit leave room for the next content's; the rest is in order
            if not section.add(line, base + room) and section.name != "other_filenames":
                break
        room -= section.cost() - base
    return sections


def _text(raw: bytes) -> tuple[str, str | None]:
    text = udf_text(raw)
    return text, (raw.hex() if raw_from_udf_text(text) != raw else None)


def _tree_lines(cat: Catalogue, layout: DiscLayout) -> Iterator[str]:
    snaps = {bytes(src.root_name): (src, snap.id) for src, snap in cat.latest_snapshots()}
    seen: set[bytes] = set()
    for _node, udf, _jol, _iso in layout.dirs():
        rel = udf[len("/DATA/") :] if udf.startswith("/DATA/") else ""
        if not rel:
            continue
        raw_dir = raw_from_udf_text(rel)
        parts = raw_dir.split(b"/")
        if parts[0] not in snaps:
            continue
        _source, snap = snaps[parts[0]]
        for i in range(1, len(parts) + 1):
            path = b"/".join(parts[:i])
            if path in seen:
                continue
            seen.add(path)
            yield from _dir_lines(cat, path, snap)


def _dir_lines(cat: Catalogue, path: bytes, snap: int) -> Iterator[str]:
    entry = resolve(cat, path, snap)
    if entry is None or entry.kind != "d":
        return
    text, raw = _text(path)
    yield json.dumps(["d", text, entry.mode, entry.mtime_ns, None, raw])
    node = child_dir(cat, entry.dir_id, entry.name)
    if node is None:
        return
    for child in list_dir_except_files(cat, node, snap):
        ctext, craw = _text(path + b"/" + child.name)
        target = udf_text(bytes(child.target)) if child.kind == "l" and child.target is not None else None
        yield json.dumps([child.kind, ctext, child.mode, child.mtime_ns, target, craw])


def _attribute_lines(cat: Catalogue, layout: DiscLayout) -> Iterator[str]:
    snaps = {bytes(src.root_name): snap.id for src, snap in cat.latest_snapshots()}
    line = _AttributeLines(cat)
    dirs: dict[int, bytes] = {}  # directory paths by id: bounded by the directories of the disc's contents
    contents = _disc_contents(layout)
    while batch := [cid for cid, _shown in itertools.islice(contents, ATTRIBUTE_BATCH)]:
        names = attributes.of_contents(cat.conn, batch)
        for cid in batch:
            for dir_id, name, row in names.get(cid, ()):
                if dir_id not in dirs:
                    dirs[dir_id] = dir_path(cat, dir_id)
                yield line(dirs[dir_id] + b"/" + name, row)
    seen: set[bytes] = set()
    for _node, udf, _jol, _iso in layout.dirs():
        rel = udf[len("/DATA/") :] if udf.startswith("/DATA/") else ""
        parts = raw_from_udf_text(rel).split(b"/") if rel else []
        for i in range(1, len(parts) + 1):
            path = b"/".join(parts[:i])
            if path in seen or parts[0] not in snaps:
                continue
            seen.add(path)
            entry = resolve(cat, path, snaps[parts[0]])
            if entry is None or entry.kind != "d":
                continue
            if entry.owner is not None or entry.xattrs is not None:
                yield line(path, (entry.owner, entry.xattrs, None))
            node = child_dir(cat, entry.dir_id, entry.name)
            for child in list_dir_except_files(cat, node, snaps[parts[0]]) if node is not None else ():
                if child.kind == "l" and child.owner is not None:  # symlinks of `tree`
                    yield line(path + b"/" + child.name, (child.owner, None, None))


class _AttributeLines:
    """Renders `attributes` lines; owners and extended attribute sets (shared by many files)
    are looked up and rendered once each."""

    def __init__(self, cat: Catalogue) -> None:
        self.cat = cat
        self.owners: dict[int, str] = {}
        self.xattrs: dict[int, str] = {}

    def _owner(self, owner_id: int | None) -> str:
        if owner_id is None:
            return "null, null, null, null"
        text = self.owners.get(owner_id)
        if text is None:
            o = owners.get(self.cat.conn, owner_id)
            fields = (o.uid, o.gid, o.user, o.group) if o else (None,) * 4
            if len(self.owners) >= OWNERS_KEPT:
                self.owners.clear()
            text = self.owners[owner_id] = json.dumps(fields)[1:-1]
        return text

    def _xattrs(self, set_id: int | None) -> str:
        if set_id is None:
            return "null"
        text = self.xattrs.get(set_id)
        if text is None:
            if len(self.xattrs) >= OWNERS_KEPT:
                self.xattrs.clear()
            text = self.xattrs[set_id] = json.dumps(json.loads(xattrs.text_of(self.cat.conn, set_id) or "null"))
        return text

    def __call__(self, path: bytes, row: tuple[int | None, int | None, int | None]) -> str:
        """The line of `path`: json.dumps([text, raw hex or None, uid, gid, user, group, xattrs, ino])."""
        owner_id, set_id, ino = row
        text, raw = _text(path)
        raw_json = "null" if raw is None else f'"{raw}"'
        ino_json = "null" if ino is None else str(int(ino))
        return f"[{quote(text)}, {raw_json}, {self._owner(owner_id)}, {self._xattrs(set_id)}, {ino_json}]"


def _other_filename_lines(cat: Catalogue, layout: DiscLayout) -> Iterator[str]:
    """For each content on the disc, its names in the latest scan that the disc's trees do not
    show (pieces of split contents, names added after planning), every one."""
    dirs: dict[int, bytes] = {}  # directory paths by id: bounded by the directories of the disc's contents
    named = plans.contents_with_names(cat.conn)  # any other content has one entry: the one the disc shows
    for content_id, shown in _disc_contents(layout, named):
        if content_id not in named:
            continue
        others = []
        for dir_id, name, mode, mtime_ns in images.live_names_of(cat.conn, content_id):
            if dir_id not in dirs:
                dirs[dir_id] = dir_path(cat, dir_id)
            path = dirs[dir_id] + b"/" + bytes(name)
            if path not in shown:
                others.append(json.dumps([udf_text(path), mode, mtime_ns]))
        if others:
            yield f"{json.dumps(cat.content(content_id)[0].hex())}: [{', '.join(others)}]"


def _disc_contents(layout: DiscLayout, shown_of: Container[int] = ()) -> Iterator[tuple[int, set[bytes]]]:
    """Each content on the disc once (in the order its stored file is written), with the
    archived paths the disc shows it under for those in `shown_of` (an empty set for the
    others). Nothing per file is kept: a whole content is
    stored once on a disc (its further names are its aliases); only split contents, whose
    pieces may share a disc, are remembered."""
    pieces_seen: set[int] = set()
    primaries, cids, pieces, aliases_of = layout.primaries, layout.cids, layout.pieces, layout.aliases_of
    for node, *_ in layout.dirs():
        src_dir = node.raw_path + b"/" if node.raw_path else b""
        for n, raw in zip(node.idx, node.raw_names()):
            if primaries[n] >= 0:
                continue
            cid = cids[n]
            piece = pieces.get(n)
            if piece is not None:
                if cid in pieces_seen:
                    continue
                pieces_seen.add(cid)
                raw = raw[: -len(PIECE_SUFFIX.format(piece[0]))]
            if cid not in shown_of:
                yield cid, set()
                continue
            more = aliases_of.get(n)
            yield cid, {src_dir + raw, *(layout.file_view(a).raw_path for a in more or ())}


def _disc_map_lines(cat: Catalogue) -> Iterator[str]:
    for d, sha, piece in images.disc_map(cat.conn):
        yield f'[{d}, "{sha}", {piece}]'  # json.dumps([d, sha, piece]): sha is lower-case hex
