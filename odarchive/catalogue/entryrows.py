"""Writing entry rows in schema 7's packed layout (schema.sql, `entries`).

Readers use the VIRTUAL columns (first_snap, last_snap, kind, mode, owner, xattrs, content_id,
target, ino), which SQLite computes from the stored ones. Those cannot be written, so every
INSERT of an entry and every UPDATE of a packed field goes through the SQL made here; the
migration to schema 7 packs old rows with the same expressions.

A new row's id is chosen here (`numbered`), so that a content first seen in a file can take
that file's id (`contents.ids_for(prefer=...)`) and the row stores `content_off` 0: only the
further names of a content are in the index by content (`BY_CONTENT`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator


def bits(mode: str, owner: str, xattrs: str) -> str:
    """SQL packing st_mode, owners.id and xattr_sets.id (SQL expressions; NULL: none) into `bits`.
    (`&`, `|`, `<<` share one precedence in SQLite: every step is in parentheses.)"""
    kind = f"(CASE ({mode}) & 0xF000 WHEN 0x4000 THEN 1 WHEN 0xA000 THEN 2 ELSE 0 END)"
    return f"((({mode}) & 0xFFF) | ({kind} << 12) | (coalesce({owner}, 0) << 14) | (coalesce({xattrs}, 0) << 34))"


def snaps(first: str, last: str) -> str:
    """SQL packing first_snap and last_snap (NULL: open) into `snaps`."""
    return f"(({first}) | (coalesce({last}, 0) << 32))"


def link(target: str, ino: str) -> str:
    """SQL for `link`: a symlink's target or a hard-linked file's inode (the other is NULL)."""
    return f"coalesce({target}, {ino})"


CLOSE = f"snaps = {snaps('first_snap', '?')}"
"""SET clause ending a row at the snapshot bound to its `?`."""

SET_OWNER_XATTRS = f"bits = {bits('mode', '?', '?')}"
"""SET clause of an entry's owner and xattr set (two parameters)."""

SET_OWNER = f"bits = {bits('mode', '?', 'xattrs')}"
"""SET clause of an entry's owner (one parameter)."""

SET_XATTRS = f"bits = {bits('mode', 'owner', '?')}"
"""SET clause of an entry's xattr set (one parameter)."""

SET_MODE = f"bits = {bits(':mode', 'owner', 'xattrs')}"
"""SET clause of an entry's st_mode (the named parameter `:mode`: the packing reads it twice)."""

SET_INO = "link = CASE WHEN kind = 'f' THEN ? ELSE link END"
"""SET clause of a file's hard-link inode (one parameter; a symlink keeps its target)."""

SET_CONTENT = "content_off = ? - id"
"""SET clause of an entry's content id (one parameter)."""


def names_of(content: str, entry: str = "entries") -> str:
    """SQL condition: the row `entry` (a table name or alias) is a name of content `content` (an
    SQL expression). Both halves are indexed: the entry whose id the content took (the primary
    key), and the others (entries_by_content)."""
    e = entry
    return f"({e}.id = {content} AND {e}.content_off = 0 OR {e}.content_id = {content} AND {e}.content_id != {e}.id)"


BY_CONTENT = names_of(":content")
"""WHERE condition on `entries`: the entry is a name of content `:content`."""

INSERT = (
    "INSERT INTO entries (id, source_id, dir_id, name, snaps, size, mtime_ns, ctime_off, bits, content_off, link)"
    f" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?9, {bits('?8', '?10', '?13')}, ?14 - ?1, {link('?12', '?11')})"
)
"""An open row from (id, source_id, dir_id, name, first_snap, size, mtime_ns, mode, ctime_off,
owner, ino, target, xattrs, content_id): the scan's own tuple order, so rows need no reshuffling."""


def next_id(conn: sqlite3.Connection) -> int:
    """The id the next new entry gets (call inside the writing transaction)."""
    return conn.execute("SELECT coalesce(max(id), 0) + 1 FROM entries").fetchone()[0]


def numbered(conn: sqlite3.Connection, rows: Iterable[tuple]) -> Iterator[tuple]:
    """`rows` (INSERT's tuples without the id) with the next free ids in front (the first is read
    now, not when the rows are consumed, so no query runs inside the caller's executemany)."""
    return ((entry_id, *row) for entry_id, row in enumerate(rows, next_id(conn)))


def insert(conn: sqlite3.Connection, rows: Iterable[tuple]) -> None:
    """New open rows: INSERT's tuples, ids included."""
    conn.executemany(INSERT, rows)
