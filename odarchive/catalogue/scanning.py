"""What a scan reads and writes: the open rows of a directory, new rows, closed rows, listing
digests, skipped entries and the files still to hash (see schema.sql, "Versioning").

`odarchive.scan` (walker, hasher, small files) holds no SQL: it calls these methods, on
the one connection of the scan, inside the transactions the scan commits in batches.

Row tuples:
  - `Meta` (what the walk saw): (size, mtime_ns, mode, ctime_off, owner, ino, target)
  - `OpenRow` (what the catalogue holds): (name, size, mtime_ns, mode, ctime_off, owner, ino,
    target, id, content_id, first_snap)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

from odarchive.catalogue import contents, entryrows
from odarchive.catalogue.catalogue import valid_in
from odarchive.catalogue.inserts import insert
from odarchive.catalogue.versions import close_subtree

Meta = tuple  # (size, mtime_ns, mode, ctime_off, owner, ino, target)
OpenRow = tuple

_UNHASHED = "first_snap=? AND content_id IS NULL AND mode & 0xF000 = 0x8000"
# WAL pages before SQLite checkpoints (its default is 1,000, 4 MB): each checkpoint waits for two
# fdatasyncs, and a first scan of 100,000 tiny files made 13 of them (0.6 s of its 2-3 s on a
# busy disk). With 64 MB, that scan checkpoints once, when the catalogue closes.
SCAN_CHECKPOINT_PAGES = 16384


class ScanRows:
    """The rows of snapshot `snap` of source `source_id`; `prev` is its last complete snapshot."""

    def __init__(self, conn: sqlite3.Connection, source_id: int, snap: int, prev: int | None) -> None:
        self.conn = conn
        self.source_id = source_id
        self.snap = snap
        self.prev = prev
        conn.execute(f"PRAGMA wal_autocheckpoint={SCAN_CHECKPOINT_PAGES}")

    # ---- transactions (the scan commits in batches; see walker and hasher) ----
    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def commit_if_open(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")

    # ---- directories ----
    def sig(self, node: int) -> bytes | None:
        row = self.conn.execute("SELECT sig FROM dirs WHERE id=?", (node,)).fetchone()
        return row[0] if row else None

    def set_sig(self, node: int, digest: bytes | None) -> None:
        self.conn.execute("UPDATE dirs SET sig=? WHERE id=?", (digest, node))

    def forget_sigs(self, nodes: Iterable[int]) -> None:
        self.conn.executemany("UPDATE dirs SET sig=NULL WHERE id=?", ((n,) for n in nodes))

    def child_dirs(self, parent: int) -> dict[bytes, tuple[int, bytes | None]]:
        return {
            r[0]: (r[1], r[2]) for r in self.conn.execute("SELECT name, id, sig FROM dirs WHERE parent_id=?", (parent,))
        }

    def child_dir(self, parent: int, name: bytes) -> int | None:
        row = self.conn.execute("SELECT id FROM dirs WHERE parent_id=? AND name=?", (parent, name)).fetchone()
        return row[0] if row else None

    def new_dir(self, parent: int, name: bytes) -> int:
        return insert(self.conn, "INSERT INTO dirs (parent_id, name) VALUES (?, ?)", (parent, name))

    # ---- entries ----
    def open_rows(self, node: int, name: bytes | None = None) -> dict[bytes, OpenRow]:
        sql = (
            "SELECT name, size, mtime_ns, mode, ctime_off, owner, ino, target, id, content_id, first_snap"
            " FROM entries WHERE dir_id=? AND last_snap IS NULL"
        )
        args: tuple = (node,)
        if name is not None:
            sql += " AND name=?"
            args += (name,)
        return {r[0]: r for r in self.conn.execute(sql, args)}

    def insert(self, node: int, rows: list[tuple[bytes, Meta, int | None, int | None]]) -> None:
        """New open rows: (name, meta, xattrs id, content id or None)."""
        s, snap = self.source_id, self.snap
        entryrows.insert(
            self.conn,
            entryrows.numbered(
                self.conn, ((s, node, name, snap, *meta, xattrs, cid) for name, meta, xattrs, cid in rows)
            ),
        )

    def insert_stream(self, rows: Iterable[tuple[int, bytes, Meta, int | None, int | None]]) -> None:
        """New open rows from anywhere in the tree, streamed: (node, name, meta, xattrs id, content id)."""
        s, snap = self.source_id, self.snap
        entryrows.insert(
            self.conn,
            entryrows.numbered(
                self.conn, ((s, node, name, snap, *meta, xattrs, cid) for node, name, meta, xattrs, cid in rows)
            ),
        )

    def insert_hashed(
        self, rows: list[tuple[int, bytes, Meta, int | None]], sizes_and_hashes: list[tuple[bytes, int]]
    ) -> int:
        """New open rows of files hashed before their row was written: (node, name, meta, xattrs id)
        with their (sha256, size). Returns how many contents were new. A new content takes the id
        of its first row."""
        first = entryrows.next_id(self.conn)
        entry_ids = range(first, first + len(rows))
        ids, new = contents.ids_for(self.conn, sizes_and_hashes, prefer=entry_ids)
        s, snap = self.source_id, self.snap
        entryrows.insert(
            self.conn,
            [
                (eid, s, node, name, snap, *meta, xattrs, cid)
                for eid, (node, name, meta, xattrs), cid in zip(entry_ids, rows, ids)
            ],
        )
        return new

    def fill_in(self, row_id: int, ctime_off: int, owner: int, ino: int | None) -> None:
        """A row from before schema 3 that still matches: record what it did not know."""
        self.conn.execute(
            f"UPDATE entries SET ctime_off=?, {entryrows.SET_OWNER}, {entryrows.SET_INO} WHERE id=?",
            (ctime_off, owner, ino, row_id),
        )

    def close(self, node: int, name: bytes, prior: OpenRow, subtree: bool) -> None:
        """The open row `prior` is no longer current: end it at the previous snapshot (a row this
        snapshot opened is deleted); with `subtree`, everything below the directory too."""
        if prior[10] == self.snap or self.prev is None:
            self.conn.execute("DELETE FROM entries WHERE id=?", (prior[8],))
        else:
            self.conn.execute(f"UPDATE entries SET {entryrows.CLOSE} WHERE id=?", (self.prev, prior[8]))
        if subtree:
            child = self.child_dir(node, name)
            if child is not None:
                close_subtree(self.conn, child, self.snap, self.prev)

    def skip(self, node: int, name: bytes, reason: str) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO skipped (snapshot_id, dir_id, name, reason) VALUES (?,?,?,?)",
            (self.snap, node, name, reason),
        )

    # ---- the hash phase ----
    def pending(self) -> tuple[int, int]:
        """(files, bytes) still to hash."""
        n, b = self.conn.execute(
            f"SELECT count(*), coalesce(sum(size), 0) FROM entries WHERE {_UNHASHED}", (self.snap,)
        ).fetchone()
        return n, b

    def unhashed(self, page: int = 2000) -> Iterator[tuple[int, int, bytes, int, int, int | None]]:
        """(id, dir_id, name, size, mtime_ns, ctime_off) of files without content, in id order,
        read in pages so the cursor never spans the caller's writes."""
        last = 0
        while True:
            rows = self.conn.execute(
                f"SELECT id, dir_id, name, size, mtime_ns, ctime_off FROM entries WHERE {_UNHASHED} AND id > ?"
                " ORDER BY id LIMIT ?",
                (self.snap, last, page),
            ).fetchall()
            if not rows:
                return
            yield from rows
            last = rows[-1][0]

    def set_contents(self, rows: list[tuple[bytes, int, int, int, int | None, int]]) -> tuple[list[int], int]:
        """(sha256, size, mtime_ns, ctime_off, xattrs id, entry id): hashed files of the hash phase.
        Returns their content ids and how many contents were new. A new content takes the id of
        its first entry."""
        ids, new = contents.ids_for(self.conn, [(r[0], r[1]) for r in rows], prefer=[r[5] for r in rows])
        self.conn.executemany(
            f"UPDATE entries SET {entryrows.SET_CONTENT}, size=?, mtime_ns=?, ctime_off=?, {entryrows.SET_XATTRS}"
            " WHERE id=?",
            [(cid, *r[1:]) for cid, r in zip(ids, rows)],
        )
        return ids, new

    def drop_entry(self, entry_id: int) -> None:
        self.conn.execute("DELETE FROM entries WHERE id=?", (entry_id,))

    def summary(self) -> tuple[int, int, int]:
        """(entries, files, skipped) of the snapshot."""
        entries, files = self.conn.execute(
            f"SELECT count(*), coalesce(sum(kind='f'), 0) FROM entries WHERE source_id=? AND {valid_in('?')}",
            (self.source_id, self.snap, self.snap),
        ).fetchone()
        skipped = self.conn.execute("SELECT count(*) FROM skipped WHERE snapshot_id=?", (self.snap,)).fetchone()[0]
        return entries, files, skipped
