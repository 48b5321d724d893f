"""Queries on the `discs` rows: the small facts about planned discs that commands look up one
at a time (which discs exist, a disc's label, its recorded image, its error correction, the
medium it was planned for, counts by state).

Writing discs is elsewhere: the planner's rows in `plans`, what an image build records in
`images`, the burn record (state, slot, location) in `burns`, copies in `copies`.
"""

from __future__ import annotations

import sqlite3


def ids(conn: sqlite3.Connection) -> list[int]:
    """Every planned disc, by id."""
    return [d for (d,) in conn.execute("SELECT id FROM discs ORDER BY id")]


def labels(conn: sqlite3.Connection) -> dict[int, str]:
    """Disc id -> the plan's label (the volume label is `iso.build.volume_ident` of it)."""
    return dict(conn.execute("SELECT id, label FROM discs"))


def label(conn: sqlite3.Connection, disc: int) -> str | None:
    """The plan's label of a disc (None: no such disc)."""
    row = conn.execute("SELECT label FROM discs WHERE id=?", (disc,)).fetchone()
    return row[0] if row else None


def exists(conn: sqlite3.Connection, disc: int) -> bool:
    return conn.execute("SELECT 1 FROM discs WHERE id=?", (disc,)).fetchone() is not None


def image_record(conn: sqlite3.Connection, disc: int) -> tuple[str, str | None, int | None, bytes | None] | None:
    """(label, image_name, image_size, image_sha256) recorded for a disc (None: no such disc);
    the image fields are None until `create_iso` wrote it."""
    row = conn.execute("SELECT label, image_name, image_size, image_sha256 FROM discs WHERE id=?", (disc,)).fetchone()
    if row is None:
        return None
    return row[0], row[1], row[2], bytes(row[3]) if row[3] is not None else None


def image_name(conn: sqlite3.Connection, disc: int) -> str | None:
    """The file name of a disc's written image (None: never written, or no such disc)."""
    record = image_record(conn, disc)
    return record[1] if record else None


def by_image_name(conn: sqlite3.Connection, name: str) -> int | None:
    """The disc whose written image has this file name."""
    row = conn.execute("SELECT id FROM discs WHERE image_name=?", (name,)).fetchone()
    return int(row[0]) if row else None


def ecc(conn: sqlite3.Connection, disc: int) -> tuple[int, str | None] | None:
    """(roots, format) of the error correction a disc was planned with (None: none, or no such disc)."""
    row = conn.execute("SELECT ecc_roots, ecc_format FROM discs WHERE id=?", (disc,)).fetchone()
    return (int(row[0]), row[1]) if row and row[0] else None


def set_ecc(conn: sqlite3.Connection, disc: int, ecc_format: str, capacity: int) -> None:
    """Plan a disc's error correction in `ecc_format`, with `capacity` bytes of room for the
    image before it (what the migration to schema 6 leaves for the discs planned before)."""
    conn.execute("UPDATE discs SET ecc_format=?, capacity_bytes=? WHERE id=?", (ecc_format, capacity, disc))


def medium_bytes(conn: sqlite3.Connection, disc: int) -> int:
    """The size of the medium a disc was planned for (its capacity where no medium was recorded)."""
    return conn.execute("SELECT coalesce(medium_bytes, capacity_bytes) FROM discs WHERE id=?", (disc,)).fetchone()[0]


def last_capacity(conn: sqlite3.Connection) -> int | None:
    """The capacity of the newest planned disc (None: none planned yet)."""
    row = conn.execute("SELECT capacity_bytes FROM discs ORDER BY id DESC LIMIT 1").fetchone()
    return int(row[0]) if row else None


def count_by_state(conn: sqlite3.Connection) -> dict[str, int]:
    """State (planned, written, burned, verified) -> number of discs."""
    return dict(conn.execute("SELECT state, count(*) FROM discs GROUP BY state"))


def not_verified(conn: sqlite3.Connection, limit: int) -> list[int]:
    """The first `limit` discs (by id) that were never burned and verified."""
    return [d for (d,) in conn.execute("SELECT id FROM discs WHERE verified_ns IS NULL ORDER BY id LIMIT ?", (limit,))]
