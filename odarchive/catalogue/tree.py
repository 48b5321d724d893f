"""Reading one snapshot as a tree: lookup by directory + name, listing, walking, paths.

Everything streams from SQLite; nothing holds a whole tree in memory. The mount, restore,
export and the planner read the catalogue through these functions.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from odarchive.catalogue.catalogue import ENTRY_COLUMNS, Catalogue, EntryRow, Source, valid_in

_VALID = valid_in(":snap")


def root_entry(cat: Catalogue, source: Source, snap: int) -> EntryRow | None:
    """The entry of a source's root directory in snapshot `snap`."""
    return lookup(cat, 0, source.root_name, snap)


def lookup(cat: Catalogue, dir_id: int, name: bytes, snap: int) -> EntryRow | None:
    r = cat.conn.execute(
        f"SELECT {ENTRY_COLUMNS} FROM entries WHERE dir_id=:dir AND name=:name AND {_VALID}",
        {"dir": dir_id, "name": name, "snap": snap},
    ).fetchone()
    return EntryRow(*r) if r else None


def list_dir(cat: Catalogue, dir_id: int, snap: int) -> Iterator[EntryRow]:
    """The entries of directory node `dir_id` in snapshot `snap`, by name."""
    for r in cat.conn.execute(
        f"SELECT {ENTRY_COLUMNS} FROM entries WHERE dir_id=:dir AND {_VALID} ORDER BY name",
        {"dir": dir_id, "snap": snap},
    ):
        yield EntryRow(*r)


def list_dir_except_files(cat: Catalogue, dir_id: int, snap: int) -> Iterator[EntryRow]:
    """`list_dir` without the regular files (a directory's subdirectories and symlinks)."""
    for r in cat.conn.execute(
        f"SELECT {ENTRY_COLUMNS} FROM entries WHERE dir_id=:dir AND {_VALID} AND kind != 'f' ORDER BY name",
        {"dir": dir_id, "snap": snap},
    ):
        yield EntryRow(*r)


def child_dir(cat: Catalogue, dir_id: int, name: bytes) -> int | None:
    """The directory node id for directory `name` inside node `dir_id` (0: the top)."""
    r = cat.conn.execute("SELECT id FROM dirs WHERE parent_id=? AND name=?", (dir_id, name)).fetchone()
    return r[0] if r else None


def dir_path(cat: Catalogue, dir_id: int) -> bytes:
    """The archived path of a directory node, e.g. b'photos/2019/june' (root name first)."""
    return node_path(cat.conn, dir_id)


def node_path(conn: sqlite3.Connection, dir_id: int) -> bytes:
    """`dir_path` on a bare connection."""
    parts = []
    while dir_id:
        parent, name = conn.execute("SELECT parent_id, name FROM dirs WHERE id=?", (dir_id,)).fetchone()
        parts.append(name)
        dir_id = parent
    return b"/".join(reversed(parts))


def resolve(cat: Catalogue, path: bytes, snap: int) -> EntryRow | None:
    """The entry at archived path `path` (b'root/a/b') in snapshot `snap`."""
    parts = [p for p in path.split(b"/") if p]
    if not parts:
        return None
    dir_id = 0
    entry = None
    for i, part in enumerate(parts):
        entry = lookup(cat, dir_id, part, snap)
        if entry is None:
            return None
        if i < len(parts) - 1:
            if entry.kind != "d":
                return None
            node = child_dir(cat, dir_id, part)
            if node is None:
                return None
            dir_id = node
    return entry


def walk(cat: Catalogue, source: Source, snap: int) -> Iterator[tuple[bytes, EntryRow]]:
    """Every entry of one snapshot of `source` as (archived path, entry), depth first.

    Memory is bounded by the depth of the tree times one directory's listing cursor.
    """
    root = root_entry(cat, source, snap)
    if root is None:
        return
    yield source.root_name, root
    stack: list[tuple[int, bytes]] = [(source.root_dir, source.root_name)]
    while stack:
        node, prefix = stack.pop()
        subdirs = []
        for entry in list_dir(cat, node, snap):
            path = prefix + b"/" + entry.name
            yield path, entry
            if entry.kind == "d":
                child = child_dir(cat, node, entry.name)
                if child is not None:
                    subdirs.append((child, path))
        stack.extend(reversed(subdirs))
