"""Queries on the copies of discs (`disc_copies`, see `odarchive.copies`): adding the rows of
sets B, C, ..., reading every copy of a disc, the discs short of verified copies and what they
hold, and the burned copies kept out of the changer.

Copy 0 (set A) is the `discs` row itself, so each read here joins it in as copy 0.
"""

from __future__ import annotations

import sqlite3

# (copy, state, slot, location, verified_ns)
CopyRow = tuple[int, str, int | None, str | None, int | None]

# the number of verified copies of the disc `d.id` (alias d for discs)
_VERIFIED_COPIES = (
    "((d.state = 'verified') + (SELECT count(*) FROM disc_copies c WHERE c.disc_id = d.id AND c.state = 'verified'))"
)


def add_sets(conn: sqlite3.Connection, n: int) -> int:
    """Add the missing copy rows so every disc has `n` copies; how many were added."""
    before = conn.execute("SELECT count(*) FROM disc_copies").fetchone()[0]
    for copy in range(1, n):
        conn.execute("INSERT OR IGNORE INTO disc_copies(disc_id, copy) SELECT id, ? FROM discs", (copy,))
    return conn.execute("SELECT count(*) FROM disc_copies").fetchone()[0] - before


def of_disc(conn: sqlite3.Connection, disc: int) -> tuple[str, list[CopyRow]] | None:
    """(the plan's label, every copy of the disc, copy 0 first) or None: no such disc."""
    row = conn.execute("SELECT label, state, slot, location, verified_ns FROM discs WHERE id=?", (disc,)).fetchone()
    if row is None:
        return None
    rows: list[CopyRow] = [(0, *row[1:])]
    rows += conn.execute(
        "SELECT copy, state, slot, location, verified_ns FROM disc_copies WHERE disc_id=? ORDER BY copy", (disc,)
    ).fetchall()
    return row[0], rows


def short_of(conn: sqlite3.Connection, n: int) -> list[int]:
    """Discs with fewer than `n` verified copies, by id."""
    return [r[0] for r in conn.execute(f"SELECT d.id FROM discs d WHERE {_VERIFIED_COPIES} < ? ORDER BY d.id", (n,))]


def held_by(conn: sqlite3.Connection, discs: list[int]) -> tuple[int, int, int]:
    """(contents, their bytes, files of the latest scans with them) placed on any of `discs`."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS short_contents (id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM short_contents")
    marks = ",".join("?" * len(discs))
    conn.execute(
        f"INSERT OR IGNORE INTO short_contents SELECT content_id FROM placements WHERE disc_id IN ({marks})", discs
    )
    contents, size = conn.execute(
        "SELECT count(*), coalesce(sum(size), 0) FROM contents WHERE id IN (SELECT id FROM short_contents)"
    ).fetchone()
    files = conn.execute(
        "SELECT count(*) FROM entries WHERE kind='f' AND last_snap IS NULL"
        " AND content_id IN (SELECT id FROM short_contents)"
    ).fetchone()[0]
    return contents, size, files


def offline(conn: sqlite3.Connection) -> list[tuple[int, int, str | None]]:
    """(disc, copy, location) of every verified copy out of the changer, by disc and copy."""
    return conn.execute(
        "SELECT id, 0, location FROM discs WHERE state='verified' AND slot IS NULL UNION ALL"
        " SELECT disc_id, copy, location FROM disc_copies WHERE state='verified' AND slot IS NULL ORDER BY 1, 2"
    ).fetchall()
