"""Queries for the archived metadata of entries (owner, xattrs, hard-link inode) as a disc's
catalogue.json `attributes` section carries it: read by content when a disc is written
(odarchive/iso/extras.py), written by path when a catalogue is rebuilt from discs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from odarchive.catalogue import entryrows
from odarchive.catalogue.tree import node_path

if TYPE_CHECKING:
    from odarchive.catalogue.catalogue import Catalogue
    from odarchive.catalogue.owners import Owner

NAMES_PER_CONTENT = 100


def of_content(
    conn: sqlite3.Connection, content_id: int
) -> Iterator[tuple[bytes, tuple[int | None, int | None, int | None]]]:
    """(archived path, (owner id, xattr set id, hard-link inode)) of the names of a content in
    the latest scans (open rows) that have any of them, at most NAMES_PER_CONTENT."""
    rows = conn.execute(
        f"SELECT dir_id, name, owner, xattrs, ino FROM entries WHERE {entryrows.BY_CONTENT} AND last_snap IS NULL"
        " AND (owner IS NOT NULL OR xattrs IS NOT NULL OR ino IS NOT NULL) LIMIT :limit",
        {"content": content_id, "limit": NAMES_PER_CONTENT},
    ).fetchall()
    for dir_id, name, owner, attrs, ino in rows:
        yield node_path(conn, dir_id) + b"/" + bytes(name), (owner, attrs, ino)


def of_contents(
    conn: sqlite3.Connection, content_ids: list[int]
) -> dict[int, list[tuple[int, bytes, tuple[int | None, int | None, int | None]]]]:
    """`of_content` for a batch of contents in one query: content id -> [(dir_id, name, (owner
    id, xattr set id, hard-link inode))], at most NAMES_PER_CONTENT names each (the rows
    stream: a content with a million names costs no memory)."""
    marks = ",".join("?" * len(content_ids))
    out: dict[int, list[tuple[int, bytes, tuple[int | None, int | None, int | None]]]] = {}
    for cid, dir_id, name, owner, attrs, ino in conn.execute(
        f"SELECT content_id, dir_id, name, owner, xattrs, ino FROM entries"
        f" WHERE (id IN ({marks}) AND content_off = 0 OR content_id IN ({marks}) AND content_id != id)"
        " AND last_snap IS NULL AND (owner IS NOT NULL OR xattrs IS NOT NULL OR ino IS NOT NULL)",
        content_ids + content_ids,
    ):
        names = out.setdefault(cid, [])
        if len(names) < NAMES_PER_CONTENT:
            names.append((dir_id, bytes(name), (owner, attrs, ino)))
    return out


def set_by_path(cat: Catalogue, rows: Iterable[tuple[bytes, Owner | None, str | None, int | None]]) -> int:
    """Record (archived path, owner, encoded xattr set, hard-link inode) on the entries at those
    paths in their source's latest snapshot (a rebuild from discs); returns how many were found."""
    from odarchive.catalogue.owners import OwnerIds
    from odarchive.catalogue.tree import resolve
    from odarchive.catalogue.xattrs import XattrIds

    latest = {bytes(src.root_name): snap.id for src, snap in cat.latest_snapshots()}
    owner_ids, xattr_ids = OwnerIds(cat.conn), XattrIds(cat.conn)
    found = 0
    for path, owner, attrs, ino in rows:
        snap = latest.get(path.split(b"/", 1)[0])
        entry = resolve(cat, path, snap) if snap is not None else None
        if entry is None:
            continue
        cat.conn.execute(
            f"UPDATE entries SET {entryrows.SET_OWNER_XATTRS}, {entryrows.SET_INO} WHERE id=?",
            (
                owner_ids.add(owner) if owner is not None else None,
                xattr_ids.id_for(attrs) if attrs is not None else None,
                ino,
                entry.id,
            ),
        )
        found += 1
    return found
