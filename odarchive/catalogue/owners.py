"""Queries on `owners`: the owner and group of entries, as numeric ids and names.

Names are those the scanning machine gave the ids (NULL when it had none), so a restore on
another machine can map by name as tar does, and fall back to the numbers.
"""

from __future__ import annotations

import grp
import pwd
import sqlite3
from dataclasses import dataclass

from odarchive.catalogue.inserts import insert


@dataclass(frozen=True)
class Owner:
    uid: int
    gid: int
    user: str | None
    group: str | None


def _user(uid: int) -> str | None:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def _group(gid: int) -> str | None:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return None


class OwnerIds:
    """owners.id for (uid, gid) pairs seen by one scan, names looked up once per pair."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.ids: dict[tuple[int, int], int] = {}  # (uid, gid) -> id, for callers in a hurry

    def id_for(self, uid: int, gid: int) -> int:
        key = (uid, gid)
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = self.add(Owner(uid, gid, _user(uid), _group(gid)))
        return found

    def add(self, owner: Owner) -> int:
        """The id of this exact owner row, added if new."""
        args = (owner.uid, owner.gid, owner.user, owner.group)
        row = self.conn.execute(
            "SELECT id FROM owners WHERE uid=? AND gid=? AND user IS ? AND grp IS ?", args
        ).fetchone()
        if row:
            return row[0]
        return insert(self.conn, "INSERT INTO owners (uid, gid, user, grp) VALUES (?, ?, ?, ?)", args)


def get(conn: sqlite3.Connection, owner_id: int) -> Owner | None:
    row = conn.execute("SELECT uid, gid, user, grp FROM owners WHERE id=?", (owner_id,)).fetchone()
    return Owner(*row) if row else None
