"""Helpers to build source trees and look at catalogues in tests."""

from __future__ import annotations

import os
from pathlib import Path


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
