"""Helpers to build source trees and look at catalogues in tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from odarchive.catalogue import Catalogue
    from odarchive.copies import DiscCopy
    from odarchive.planned_image import PlannedImage


def write(path: Path | bytes, data: bytes = b"x") -> None:
    p = os.fsencode(path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)


def snapshot_listing(home: Path, root: str | None = None) -> list[tuple]:
    """(path, kind, size, sha256 hex) of the latest snapshot of every source: a comparable view."""
    from odarchive.catalogue import Catalogue
    from odarchive.catalogue.tree import walk

    out = []
    with Catalogue.open(home / "catalogue.sqlite") as cat:
        for src, snap in cat.latest_snapshots():
            if root and src.root_name != os.fsencode(root):
                continue
            for path, e in walk(cat, src, snap.id):
                sha = cat.content(e.content_id)[0].hex() if e.content_id else None
                out.append((path, e.kind, e.size if e.kind != "d" else 0, sha, e.target))
    return sorted(out)


def row_counts(home: Path) -> tuple[int, int]:
    """(entry rows of every snapshot, contents) of a home's catalogue."""
    from odarchive.catalogue import Catalogue, browse, contents

    with Catalogue.open(home / "catalogue.sqlite", readonly=True) as cat:
        return browse.totals(cat.conn)[1], contents.count(cat.conn)


def disc_ids(home: Path) -> list[int]:
    """Every planned disc of a home, by id."""
    from odarchive.catalogue import Catalogue
    from odarchive.catalogue import discs as disc_rows

    with Catalogue.open(home / "catalogue.sqlite", readonly=True) as cat:
        return disc_rows.ids(cat.conn)


def disc_copies(home: Path, disc: int) -> list[DiscCopy]:
    """Every copy of a disc (copy 0, set A, first) with its state, slot and location."""
    from odarchive.catalogue import Catalogue
    from odarchive.copies import copies_of

    with Catalogue.open(home / "catalogue.sqlite", readonly=True) as cat:
        return copies_of(cat, disc)


def planned_images(home: Path) -> dict[int, PlannedImage]:
    """Disc -> what `create_iso` recorded of its image (name, size, SHA-256)."""
    from odarchive.catalogue import Catalogue
    from odarchive.catalogue import discs as disc_rows
    from odarchive.planned_image import planned_image

    with Catalogue.open(home / "catalogue.sqlite", readonly=True) as cat:
        return {d: planned_image(cat, d) for d in disc_rows.ids(cat.conn)}


def discs_holding(catalogue: Path, sha256: bytes) -> set[int]:
    """The discs that hold the content with this SHA-256 (or a piece of it)."""
    from odarchive.catalogue import Catalogue, browse, contents

    with Catalogue.open(catalogue, readonly=True) as cat:
        cid = contents.id_of(cat.conn, sha256)
        return {disc for _, disc, _, _ in browse.pieces(cat.conn, cid)} if cid is not None else set()


def placements_of(cat: Catalogue, path: bytes) -> list[tuple[int, int, int, int, tuple[tuple[int, int], ...]]]:
    """(piece, disc, offset, length, extents) of the content of the archived `path` (root name
    first) in its source's latest snapshot."""
    from odarchive.catalogue import browse
    from odarchive.catalogue.tree import resolve

    source = cat.source_by_name(path.split(b"/")[0])
    snap = cat.latest_snapshot(source.id) if source else None
    entry = resolve(cat, path, snap.id) if snap else None
    assert entry is not None and entry.content_id is not None, f"{path!r} is no archived file"
    return browse.placements(cat.conn, entry.content_id)
