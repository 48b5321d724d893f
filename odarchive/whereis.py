"""`whereis`: for archived paths, their content and every disc copy that holds it.

For a file: its content (SHA-256, size), each piece's disc, and for each disc every copy
(set A, B, ...) with where it is (a changer slot, or the place a person keeps it when it is
out of the changer) and when it was last verified (burn read-back or scrub). For a directory:
the same per disc for all files below it, with file and byte counts. Paths are looked up in
the latest complete snapshot of their source (the first component is the root name).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from odarchive.catalogue import Catalogue, browse
from odarchive.catalogue import health as health_rows
from odarchive.catalogue.tree import child_dir, list_dir, resolve
from odarchive.copies import DiscCopy, copies_of
from odarchive.errors import InputError


@dataclass
class Where:
    path: bytes
    kind: str  # file | directory | symlink
    sha256: str | None = None
    size: int = 0
    files: int = 0
    pieces: list[dict[str, Any]] = field(default_factory=list)  # files: disc, piece, offset, length
    discs: dict[int, dict[str, Any]] = field(default_factory=dict)  # disc -> files, bytes, copies


def whereis(cat: Catalogue, path: bytes) -> Where:
    parts = [p for p in path.split(b"/") if p]
    source = cat.source_by_name(parts[0]) if parts else None
    snap = cat.latest_snapshot(source.id) if source is not None else None
    entry = resolve(cat, b"/".join(parts), snap.id) if snap is not None else None
    if entry is None or snap is None or source is None:
        raise InputError(
            f"{os.fsdecode(path)} is not in the latest snapshot of any source",
            hint="archived paths start with the source's root name (see `odarchive get_info`)",
        )
    clean = b"/".join(parts)
    if entry.kind == "l":
        return Where(clean, "symlink")
    if entry.kind == "f":
        where = Where(clean, "file", files=1)
        if entry.content_id is not None:
            sha, size = cat.content(entry.content_id)
            where.sha256, where.size = bytes(sha).hex(), size
            _add_content(cat, where, entry.content_id, pieces=True)
        return where
    where = Where(clean, "directory")
    node = child_dir(cat, entry.dir_id, entry.name)
    if node is None:
        return where
    stack = [node]
    while stack:  # depth first, one directory listing at a time
        d = stack.pop()
        for e in list_dir(cat, d, snap.id):
            if e.kind == "d":
                sub = child_dir(cat, d, e.name)
                if sub is not None:
                    stack.append(sub)
            elif e.kind == "f" and e.content_id is not None:
                where.files += 1
                where.size += e.size
                _add_content(cat, where, e.content_id, pieces=False)
    return where


def _add_content(cat: Catalogue, where: Where, content_id: int, pieces: bool) -> None:
    for piece, disc, offset, length in browse.pieces(cat.conn, content_id):
        if pieces:
            where.pieces.append({"disc": disc, "piece": piece, "offset": offset, "length": length})
        d = where.discs.get(disc)
        if d is None:
            d = where.discs[disc] = {
                "disc": disc,
                "files": 0,
                "bytes": 0,
                "copies": [_copy(cat, c) for c in copies_of(cat, disc)],
            }
        d["files"] += 1
        d["bytes"] += length


def _copy(cat: Catalogue, c: DiscCopy) -> dict[str, Any]:
    scrub = health_rows.last_read_back(cat.conn, c.disc, c.copy)
    checked = [t for t in (c.verified_ns, scrub[0] if scrub and scrub[1] in ("ok", "corrected") else None) if t]
    if c.slot is not None:
        place = f"slot {c.slot}"
    elif c.location:
        place = c.location
    elif c.state == "verified":
        place = "out of the changer (no location recorded)"
    else:
        place = "not burned yet"
    return {
        "copy": c.copy,
        "set": c.set_name,
        "label": c.label,
        "state": c.state,
        "slot": c.slot,
        "location": c.location,
        "where": place,
        "last_verified_ns": max(checked) if checked else None,
        "last_scrub": scrub[1] if scrub else None,
    }
