"""Queries of `rebuild` (`odarchive.rebuild`): writing what disc images record into an empty
catalogue — each disc's row, its placements and their extents — and the temporary table of
every path the discs name (`rnodes`, the newest disc's version of each path), from which the
snapshots are then built (`seedjson.TreeBuilder`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable

# (path, kind, content_id, mode, mtime_ns, symlink target)
NodeRow = tuple[bytes, str, int | None, int, int, bytes | None]


def is_empty(conn: sqlite3.Connection) -> bool:
    """Whether the catalogue has no source and no disc yet."""
    return not conn.execute("SELECT (SELECT count(*) FROM sources) + (SELECT count(*) FROM discs)").fetchone()[0]


def add_written_disc(
    conn: sqlite3.Connection, disc: int, label: str, image_name: str, size: int, written_ns: int
) -> None:
    """A disc read from its image (of `size` bytes, full): written, with that image recorded."""
    conn.execute(
        "INSERT INTO discs (id, label, capacity_bytes, used_bytes, state, planned_ns, image_name, image_size, written_ns)"
        " VALUES (?, ?, ?, ?, 'written', ?, ?, ?, ?)",
        (disc, label, size, size, time.time_ns(), image_name, size, written_ns),
    )


def add_placement(
    conn: sqlite3.Connection,
    content_id: int,
    piece: int,
    disc: int,
    offset: int,
    length: int,
    path_on_disc: bytes,
    raw_path: bytes,
    mtime_ns: int,
    sha256: bytes | None,
    extents: Iterable[tuple[int, int]],
) -> None:
    """A piece of a content on a disc, with its (image offset, length) extents in order."""
    conn.execute(
        "INSERT OR REPLACE INTO placements (content_id, piece, disc_id, offset, length, path_on_disc, raw_path,"
        " mtime_ns, sha256) VALUES (?,?,?,?,?,?,?,?,?)",
        (content_id, piece, disc, offset, length, path_on_disc, raw_path, mtime_ns, sha256),
    )
    conn.executemany(
        "INSERT OR REPLACE INTO extents (content_id, piece, seq, image_offset, length) VALUES (?,?,?,?,?)",
        [(content_id, piece, i, off, n) for i, (off, n) in enumerate(extents)],
    )


class Nodes:
    """The temporary table of every path the discs name, the newest disc's version winning;
    dropped by `close`."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        conn.execute(
            "CREATE TEMP TABLE rnodes (path BLOB PRIMARY KEY, kind TEXT, content_id INT, mode INT,"
            " mtime_ns INT, target BLOB, disc INT)"
        )

    def remember(
        self,
        path: bytes,
        kind: str,
        content_id: int | None,
        mode: int,
        mtime_ns: int,
        target: bytes | None,
        disc: int,
    ) -> None:
        """A path as disc `disc` records it (kept unless a newer disc already named it)."""
        self.conn.execute(
            "INSERT INTO rnodes VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET kind=excluded.kind,"
            " content_id=excluded.content_id, mode=excluded.mode, mtime_ns=excluded.mtime_ns, target=excluded.target,"
            " disc=excluded.disc WHERE excluded.disc > rnodes.disc",
            (path, kind, content_id, mode, mtime_ns, target, disc),
        )

    def newest_first(self) -> list[NodeRow]:
        """Every path, those of the newest disc first, by path."""
        return [
            (bytes(path), kind, cid, mode, mtime_ns, bytes(target) if target is not None else None)
            for path, kind, cid, mode, mtime_ns, target in self.conn.execute(
                "SELECT path, kind, content_id, mode, mtime_ns, target FROM rnodes ORDER BY disc DESC, path"
            ).fetchall()
        ]

    def close(self) -> None:
        self.conn.execute("DROP TABLE temp.rnodes")
