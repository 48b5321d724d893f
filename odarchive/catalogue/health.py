"""Queries on each burned copy's read-back history (`disc_health`, see `odarchive.health`):
the verified copies a scrub can read, recording one read-back, and reading the history back.
"""

from __future__ import annotations

import sqlite3
import time

# (disc, copy, label, slot, location, image_size, image_sha256, verified_ns)
VerifiedRow = tuple[int, int, str, int | None, str | None, int | None, bytes | None, int | None]
# (disc, copy, at_ns, result, corrected_sectors, unreadable_sectors, read_bytes_per_s, detail)
HealthRow = tuple[int, int, int, str, int, int, float | None, str | None]


def verified_copies(conn: sqlite3.Connection) -> list[VerifiedRow]:
    """Every verified copy (copy 0 is the disc itself) with its disc's label and recorded
    image, by disc and copy."""
    return conn.execute(
        "SELECT d.id, 0, d.label, d.slot, d.location, d.image_size, d.image_sha256, d.verified_ns FROM discs d"
        " WHERE d.state='verified' UNION ALL"
        " SELECT c.disc_id, c.copy, d.label, c.slot, c.location, d.image_size, d.image_sha256, c.verified_ns"
        " FROM disc_copies c JOIN discs d ON d.id = c.disc_id WHERE c.state='verified' ORDER BY 1, 2"
    ).fetchall()


def last_read_back(conn: sqlite3.Connection, disc: int, copy: int) -> tuple[int, str] | None:
    """(at_ns, result) of the latest read-back of a copy (None: never read back)."""
    row = conn.execute(
        "SELECT at_ns, result FROM disc_health WHERE disc_id=? AND copy=? ORDER BY at_ns DESC LIMIT 1", (disc, copy)
    ).fetchone()
    return (row[0], row[1]) if row else None


def add(
    conn: sqlite3.Connection,
    disc: int,
    copy: int,
    result: str,
    corrected: int,
    unreadable: int,
    read_bytes_per_s: float | None,
    detail: str | None,
) -> None:
    """One read-back of a copy, now."""
    conn.execute(
        "INSERT INTO disc_health(disc_id, copy, at_ns, result, corrected_sectors, unreadable_sectors,"
        " read_bytes_per_s, detail) VALUES (?,?,?,?,?,?,?,?)",
        (disc, copy, time.time_ns(), result, corrected, unreadable, read_bytes_per_s, detail),
    )


def rows(conn: sqlite3.Connection, disc: int | None = None) -> list[HealthRow]:
    """Every read-back (of one disc's copies, or of all), by disc, copy and time."""
    sql = (
        "SELECT disc_id, copy, at_ns, result, corrected_sectors, unreadable_sectors, read_bytes_per_s, detail"
        " FROM disc_health" + (" WHERE disc_id=?" if disc is not None else "") + " ORDER BY disc_id, copy, at_ns"
    )
    return conn.execute(sql, () if disc is None else (disc,)).fetchall()
