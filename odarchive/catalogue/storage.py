"""The catalogue file as a whole, without opening it as a `Catalogue` (no migration, no
settings): the bytes its tables and indexes take (`dbstat`, after a checkpoint), and every
row as SQL text (to compare a home before and after a command that must not change it).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path


def page_bytes(path: Path) -> int:
    """Bytes of the pages of every table and index, after the WAL is checkpointed into the file."""
    return sum(page_bytes_by_name(path).values())


def page_bytes_by_name(path: Path) -> dict[str, int]:
    """Bytes of the pages of each table and index, largest first, after the WAL is
    checkpointed into the file."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"))


def dump(path: Path) -> tuple[str, ...]:
    """Every row and schema object of the file as SQL statements (`iterdump`), in a stable order."""
    with closing(sqlite3.connect(path)) as conn:
        return tuple(conn.iterdump())
