"""Queries of the planner (`odarchive.plan`): which contents are on a disc already, what a
directory still holds unplaced, and writing a closed disc's plan (its row, placements and
further names); dropping the discs that are only planned (`plan_iso --replan`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable

from odarchive.catalogue.catalogue import valid_in


def drop_planned(conn: sqlite3.Connection) -> None:
    """Forget every disc that is only planned (its placements, names and copies too)."""
    for table in ("placements", "disc_names", "disc_copies"):
        conn.execute(f"DELETE FROM {table} WHERE disc_id IN (SELECT id FROM discs WHERE state='planned')")
    conn.execute("DELETE FROM discs WHERE state='planned'")


def next_disc_id(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(id), -1) + 1 FROM discs").fetchone()[0]


def contents_with_names(conn: sqlite3.Connection) -> set[int]:
    """The contents that more than one entry shows (in any snapshot): the only ones that can
    have further names on a disc (the planner keeps a node for these alone; the builder asks
    about their other names). Every entry but the one whose id a content took is in the partial
    index `entries_by_content`, so this reads that index (one probe by id per content in it);
    the set is as large as the contents with further names. (In a catalogue migrated from
    before schema 7 no content took an entry's id: all its entries are in the index.)"""
    return {
        r[0]
        for r in conn.execute(
            "SELECT o.content_id FROM entries AS o WHERE o.content_id != o.id GROUP BY o.content_id"
            " HAVING count(*) > 1"
            " OR EXISTS (SELECT 1 FROM entries AS e WHERE e.id = o.content_id AND e.content_off = 0)"
        )
    }


def is_placed(conn: sqlite3.Connection, content_id: int) -> bool:
    """Whether the content (or a piece of it) is on some disc."""
    return conn.execute("SELECT 1 FROM placements WHERE content_id=? LIMIT 1", (content_id,)).fetchone() is not None


def unplaced_contents(conn: sqlite3.Connection) -> list[tuple[int, bytes, int]]:
    """(id, sha256, size) of every content on no disc yet, by id."""
    return [
        (cid, bytes(sha), size)
        for cid, sha, size in conn.execute(
            "SELECT id, sha256, size FROM contents WHERE id NOT IN (SELECT content_id FROM placements) ORDER BY id"
        )
    ]


def unplaced_bytes(conn: sqlite3.Connection, dir_id: int, snap: int) -> int:
    """Bytes of the files directly in a directory (in snapshot `snap`) whose content is on no disc yet."""
    return conn.execute(
        "SELECT coalesce(sum(c.size), 0) FROM entries e JOIN contents c ON c.id = e.content_id"
        f" WHERE e.dir_id=:dir AND e.kind='f' AND {valid_in(':snap')}"
        " AND NOT EXISTS (SELECT 1 FROM placements p WHERE p.content_id = e.content_id)",
        {"dir": dir_id, "snap": snap},
    ).fetchone()[0]


def add_disc(
    conn: sqlite3.Connection,
    disc_id: int,
    label: str,
    capacity: int,
    used: int,
    medium: int,
    ecc_roots: int | None,
    placements: Iterable[tuple[int, int, int, int, bytes, int, int]],
    names: Iterable[tuple[bytes, int, int, int]],
    ecc_format: str | None = None,
) -> None:
    """A closed disc: its row (with its error correction's roots and format, or none), its
    placements (content_id, piece, offset, length, raw_path, mtime_ns, mode) and its further
    names (raw_path, content_id, mtime_ns, mode)."""
    conn.execute(
        "INSERT INTO discs(id, label, capacity_bytes, used_bytes, state, planned_ns, medium_bytes, ecc_roots,"
        " ecc_format) VALUES (?,?,?,?, 'planned', ?,?,?,?)",
        (disc_id, label, capacity, used, time.time_ns(), medium, ecc_roots, ecc_format if ecc_roots else None),
    )
    conn.executemany(
        "INSERT INTO placements(content_id, piece, disc_id, offset, length, raw_path, mtime_ns, mode)"
        " VALUES (?,?,?,?,?,?,?,?)",
        (
            (cid, piece, disc_id, offset, length, raw, mtime, mode)
            for cid, piece, offset, length, raw, mtime, mode in placements
        ),
    )
    conn.executemany(
        "INSERT INTO disc_names(disc_id, raw_path, content_id, mtime_ns, mode) VALUES (?,?,?,?,?)",
        ((disc_id, raw, cid, mtime, mode) for raw, cid, mtime, mode in names),
    )


def disc_summaries(conn: sqlite3.Connection) -> list[tuple]:
    """Per disc, by id: (id, label, state, capacity_bytes, used_bytes, image_name, image_size,
    placements, data bytes, pieces)."""
    return conn.execute(
        "SELECT d.id, d.label, d.state, d.capacity_bytes, d.used_bytes, d.image_name, d.image_size,"
        " count(p.content_id), coalesce(sum(p.length), 0), coalesce(sum(p.piece > 0), 0)"
        " FROM discs d LEFT JOIN placements p ON p.disc_id = d.id GROUP BY d.id ORDER BY d.id"
    ).fetchall()
