"""Ending rows of the versioned entries table (see schema.sql, "Versioning")."""

from __future__ import annotations

import sqlite3

from odarchive.catalogue.entryrows import CLOSE


def close_subtree(conn: sqlite3.Connection, top: int, snap: int, prev: int | None) -> None:
    """Close every open row below directory node `top` (rows opened by `snap` are deleted) and
    forget the subtree's listing digests."""
    sub = "WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL SELECT d.id FROM dirs d JOIN sub ON d.parent_id = sub.id)"
    conn.execute(f"{sub} DELETE FROM entries WHERE dir_id IN sub AND last_snap IS NULL AND first_snap=?", (top, snap))
    if prev is not None:
        conn.execute(f"{sub} UPDATE entries SET {CLOSE} WHERE dir_id IN sub AND last_snap IS NULL", (top, prev))
    conn.execute(f"{sub} UPDATE dirs SET sig=NULL WHERE id IN sub", (top,))
