"""Queries for browsing the archive: what the mount's catalogue view (odarchive/app/mount_adapter.py)
asks, one function per question, on a connection the caller holds.

Every lookup here is indexed: entries by (directory node, name), dirs by (parent, name), owners
and contents by id, hard links by (source, inode), placements, extents and chunk hashes by
content.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from odarchive.catalogue.catalogue import valid_in

# (id, kind, size, mtime_ns, mode, content_id, target, uid, gid, xattrs, ino, source_id, ctime_ns)
_ENTRY = (
    "e.id, e.kind, e.size, e.mtime_ns, e.mode, e.content_id, e.target, o.uid, o.gid, e.xattrs, e.ino, e.source_id,"
    " e.mtime_ns + coalesce(e.ctime_off, 0) FROM entries e LEFT JOIN owners o ON o.id = e.owner"
)
_LOOKUP = f"SELECT {_ENTRY} WHERE e.dir_id=? AND e.name=? AND " + valid_in("?")
_LIST = f"SELECT e.name, {_ENTRY} WHERE e.dir_id=? AND " + valid_in("?")
# hard links: every name of one inode shows the smallest entry id of the group and their count
_LINK_GROUP = (
    "FROM entries x WHERE x.source_id = e.source_id AND x.ino = e.ino"
    " AND x.first_snap <= :snap AND (x.last_snap IS NULL OR x.last_snap >= :snap)"
)
_ATTRS = (
    "SELECT e.name, e.mode, CASE WHEN e.ino IS NULL THEN e.id ELSE (SELECT min(x.id) " + _LINK_GROUP + ") END,"
    " e.size, e.mtime_ns, e.mtime_ns + coalesce(e.ctime_off, 0), o.uid, o.gid,"
    " CASE WHEN e.ino IS NULL THEN 1 ELSE (SELECT count(*) " + _LINK_GROUP + ") END"
    " FROM entries e LEFT JOIN owners o ON o.id = e.owner"
    " WHERE e.dir_id = :dir AND e.first_snap <= :snap AND (e.last_snap IS NULL OR e.last_snap >= :snap)"
    " ORDER BY e.name"
)
_AT_MOST = "SELECT 1 FROM entries WHERE dir_id=? AND " + valid_in("?") + " LIMIT 1 OFFSET ?"
_LINKS = "SELECT count(*), min(id) FROM entries WHERE source_id=? AND ino=? AND " + valid_in("?")
_SNAPSHOTS = (
    "SELECT s.id, src.root_name, src.root_dir, COALESCE(s.finished_ns, s.started_ns)"
    " FROM snapshots s JOIN sources src ON src.id = s.source_id WHERE s.state = 'complete'"
)


def latest_roots(conn: sqlite3.Connection) -> list[tuple[int, bytes, int, int]]:
    """(snapshot id, root name, root dir node, finished_ns) of every source's latest complete snapshot."""
    return conn.execute(
        _SNAPSHOTS + " AND s.id = (SELECT max(id) FROM snapshots x WHERE x.source_id = s.source_id"
        " AND x.state = 'complete') ORDER BY src.root_name"
    ).fetchall()


def complete_snapshots(conn: sqlite3.Connection) -> list[tuple[int, bytes, int, int]]:
    return conn.execute(_SNAPSHOTS + " ORDER BY s.id").fetchall()


def lookup(conn: sqlite3.Connection, dir_id: int, name: bytes, snap: int) -> tuple | None:
    """The entry `name` of node `dir_id` in snapshot `snap` (columns as `_ENTRY`)."""
    return conn.execute(_LOOKUP, (dir_id, name, snap, snap)).fetchone()


def list_entries(conn: sqlite3.Connection, dir_id: int, snap: int) -> Iterator[tuple]:
    """(name, *columns of `_ENTRY`) of every entry of node `dir_id` in snapshot `snap`, any order."""
    yield from conn.execute(_LIST, (dir_id, snap, snap))


def entries_at_most(conn: sqlite3.Connection, dir_id: int, snap: int, limit: int) -> bool:
    """Whether node `dir_id` holds at most `limit` entries in snapshot `snap` (counts no further)."""
    return conn.execute(_AT_MOST, (dir_id, snap, snap, limit)).fetchone() is None


def list_attrs(conn: sqlite3.Connection, dir_id: int, snap: int) -> Iterator[tuple]:
    """(name, mode, inode id, size, mtime_ns, ctime_ns, uid, gid, nlink) by name: plain tuples,
    no objects (`ls -l` of a directory of 100,000 entries reads them all). The inode id is the
    entry id, or for hard links the smallest entry id of the names of that inode; uid and gid
    are None where not known."""
    yield from conn.execute(_ATTRS, {"dir": dir_id, "snap": snap})


def totals(conn: sqlite3.Connection) -> tuple[int, int]:
    """(bytes of all contents, number of entry rows): what the mount's statfs shows."""
    nbytes = conn.execute("SELECT coalesce(sum(size), 0) FROM contents").fetchone()[0]
    entries = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
    return int(nbytes), int(entries)


def links(conn: sqlite3.Connection, source_id: int, ino: int, snap: int) -> tuple[int, int]:
    """(number of names, smallest entry id) of the inode `ino` of a source in snapshot `snap`."""
    n, first = conn.execute(_LINKS, (source_id, ino, snap, snap)).fetchone()
    return int(n), int(first)


def holds_acls(conn: sqlite3.Connection) -> bool:
    """Whether any archived extended-attribute set holds a POSIX ACL (xattr_sets is small: one
    row per distinct set)."""
    return (
        conn.execute("SELECT 1 FROM xattr_sets WHERE data LIKE '%\"system.posix_acl_%' LIMIT 1").fetchone() is not None
    )


def pieces(conn: sqlite3.Connection, content_id: int) -> list[tuple[int, int, int, int]]:
    """(piece, disc, offset, length) of a content, by piece."""
    return conn.execute(
        "SELECT piece, disc_id, offset, length FROM placements WHERE content_id=? ORDER BY piece", (content_id,)
    ).fetchall()


def placements(
    conn: sqlite3.Connection, content_id: int
) -> list[tuple[int, int, int, int, tuple[tuple[int, int], ...]]]:
    """(piece, disc, offset, length, extents) of a content, by piece."""
    extents: dict[int, list[tuple[int, int]]] = {}
    for piece, offset, length in conn.execute(
        "SELECT piece, image_offset, length FROM extents WHERE content_id=? ORDER BY piece, seq", (content_id,)
    ):
        extents.setdefault(piece, []).append((offset, length))
    return [
        (piece, disc, offset, length, tuple(extents.get(piece, ())))
        for piece, disc, offset, length in pieces(conn, content_id)
    ]
