"""One INSERT and the id of the row it made (sqlite3 types `lastrowid` as optional)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence


def insert(conn: sqlite3.Connection, sql: str, args: Sequence[object]) -> int:
    """Run the INSERT `sql` with `args`; the new row's id."""
    rowid = conn.execute(sql, args).lastrowid
    if rowid is None:
        raise sqlite3.ProgrammingError(f"not an INSERT: {sql}")
    return rowid
