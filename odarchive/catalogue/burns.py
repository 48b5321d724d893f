"""Queries of the burn record (`odarchive.burnlog`): each disc's and each copy's burn state,
slot and location, and the media a burn rejected.

Copy 0 (set A) is the `discs` row itself, copies 1.. are `disc_copies` rows (see
`odarchive.copies`); every function here that takes `copy` reads or writes the right one.
Writers run inside the caller's transaction.
"""

from __future__ import annotations

import sqlite3
import time

# (id, label, state, slot, burn_drive, burned_ns, verified_ns)
BurnRow = tuple[int, str, str, int | None, int | None, int | None, int | None]


def discs(conn: sqlite3.Connection) -> list[BurnRow]:
    """(id, label, state, slot, burn_drive, burned_ns, verified_ns) of every disc, by id."""
    return conn.execute(
        "SELECT id, label, state, slot, burn_drive, burned_ns, verified_ns FROM discs ORDER BY id"
    ).fetchall()


def plan_labels(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT DISTINCT label FROM discs")}


def with_copy(conn: sqlite3.Connection, copy: int) -> set[int]:
    """Discs that have a copy row for set `copy` (copy >= 1)."""
    return {r[0] for r in conn.execute("SELECT disc_id FROM disc_copies WHERE copy=?", (copy,))}


def verified(conn: sqlite3.Connection, copy: int) -> set[int]:
    """Discs whose copy `copy` is burned and verified."""
    if copy:
        rows = conn.execute("SELECT disc_id FROM disc_copies WHERE copy=? AND state='verified'", (copy,))
    else:
        rows = conn.execute("SELECT id FROM discs WHERE state='verified'")
    return {r[0] for r in rows}


def verified_any(conn: sqlite3.Connection) -> set[int]:
    """Discs with a verified copy in any set."""
    return {
        r[0]
        for r in conn.execute(
            "SELECT id FROM discs WHERE state='verified' UNION SELECT disc_id FROM disc_copies WHERE state='verified'"
        )
    }


def state_and_slot(conn: sqlite3.Connection, disc: int, copy: int) -> tuple[str, int | None] | None:
    """(state, slot) of one copy of a disc (None: no such copy)."""
    if copy:
        row = conn.execute("SELECT state, slot FROM disc_copies WHERE disc_id=? AND copy=?", (disc, copy)).fetchone()
    else:
        row = conn.execute("SELECT state, slot FROM discs WHERE id=?", (disc,)).fetchone()
    return (row[0], row[1]) if row else None


def verified_slots(conn: sqlite3.Connection, disc: int) -> list[tuple[int, int | None]]:
    """(copy, slot) of every verified copy of a disc, by copy."""
    return conn.execute(
        "SELECT 0, slot FROM discs WHERE id=? AND state='verified' UNION ALL"
        " SELECT copy, slot FROM disc_copies WHERE disc_id=? AND state='verified' ORDER BY 1",
        (disc, disc),
    ).fetchall()


def slots_in_use(conn: sqlite3.Connection) -> set[int]:
    """Slots holding a burned disc or copy, or a rejected medium."""
    return {
        r[0]
        for r in conn.execute(
            "SELECT slot FROM discs WHERE slot IS NOT NULL UNION SELECT slot FROM disc_copies"
            " WHERE slot IS NOT NULL UNION SELECT slot FROM rejected_media"
        )
    }


def disc_by_slot(conn: sqlite3.Connection) -> dict[int, int]:
    """Slot -> the disc a copy of which is in it."""
    rows = conn.execute(
        "SELECT id, slot FROM discs WHERE slot IS NOT NULL UNION ALL"
        " SELECT disc_id, slot FROM disc_copies WHERE slot IS NOT NULL"
    )
    return {slot: disc for disc, slot in rows}


def set_slot(conn: sqlite3.Connection, disc: int, copy: int, slot: int | None) -> None:
    if copy:
        conn.execute("UPDATE disc_copies SET slot=? WHERE disc_id=? AND copy=?", (slot, disc, copy))
    else:
        conn.execute("UPDATE discs SET slot=? WHERE id=?", (slot, disc))


def set_verified(conn: sqlite3.Connection, disc: int, copy: int, drive: int, burn_s: float) -> None:
    """Burned and read back identical, still in `drive` (slot and location unknown until shelved)."""
    now = time.time_ns()
    if copy:
        conn.execute(
            "UPDATE disc_copies SET state='verified', slot=NULL, location=NULL, burn_drive=?,"
            " burned_ns=?, verified_ns=? WHERE disc_id=? AND copy=?",
            (drive, now, now, disc, copy),
        )
    else:
        conn.execute(
            "UPDATE discs SET state='verified', slot=NULL, burn_drive=?, burned_ns=?, burn_seconds=?, verified_ns=?"
            " WHERE id=?",
            (drive, now, burn_s, now, disc),
        )


def set_state(conn: sqlite3.Connection, disc: int, copy: int, state: str) -> None:
    if copy:
        conn.execute("UPDATE disc_copies SET state=? WHERE disc_id=? AND copy=?", (state, disc, copy))
    else:
        conn.execute("UPDATE discs SET state=? WHERE id=?", (state, disc))


def unburn(conn: sqlite3.Connection, disc: int, copy: int) -> None:
    """Forget a copy's burn (it is to be burned again): back to its image's state, no slot,
    no location, not verified."""
    if copy:
        conn.execute(
            "UPDATE disc_copies SET state='planned', slot=NULL, location=NULL, verified_ns=NULL"
            " WHERE disc_id=? AND copy=?",
            (disc, copy),
        )
    else:
        conn.execute("UPDATE discs SET state='written', slot=NULL, location=NULL, verified_ns=NULL WHERE id=?", (disc,))


def add_rejected(conn: sqlite3.Connection, disc: int | None, slot: int, reason: str) -> None:
    conn.execute(
        "INSERT INTO rejected_media (slot, disc_id, reason, at_ns) VALUES (?,?,?,?)",
        (slot, disc, reason, time.time_ns()),
    )


def rejected(conn: sqlite3.Connection) -> list[tuple[int, int | None, str]]:
    """(slot, disc, reason) of every rejected medium, in the order they were rejected."""
    return [tuple(r) for r in conn.execute("SELECT slot, disc_id, reason FROM rejected_media ORDER BY rowid")]


def move(conn: sqlite3.Connection, old: int | None, new: int | None, location: str | None) -> None:
    """A medium went from slot `old` to slot `new` (None: out of the changer, or in from
    outside): see `BurnLog.moved`."""
    if old is not None and new is None:
        conn.execute("UPDATE discs SET location=? WHERE slot=?", (location, old))
        conn.execute("UPDATE disc_copies SET location=? WHERE slot=?", (location, old))
    elif old is not None:
        conn.execute("UPDATE discs SET location=NULL WHERE slot=?", (old,))
        conn.execute("UPDATE disc_copies SET location=NULL WHERE slot=?", (old,))
    if new is not None:  # whatever was recorded in the destination is not there any more
        conn.execute("DELETE FROM rejected_media WHERE slot=?", (new,))
    if old is not None:
        conn.execute("UPDATE discs SET slot=? WHERE slot=?", (new, old))
        conn.execute("UPDATE disc_copies SET slot=? WHERE slot=?", (new, old))
        if new is None:
            conn.execute("DELETE FROM rejected_media WHERE slot=?", (old,))
        else:
            conn.execute("UPDATE rejected_media SET slot=? WHERE slot=?", (new, old))
