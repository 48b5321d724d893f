"""Extended attributes of entries: which ones are archived, how a set is encoded, its queries.

Archived: `user.*` and the POSIX ACLs (`system.posix_acl_access`, `system.posix_acl_default`),
what `rsync -AX` and `tar --xattrs --acls` keep for an ordinary user's files. Not archived:
`security.*` (SELinux labels and capabilities belong to the machine's policy) and `trusted.*`.

A set is a dict name -> bytes; it is stored once per distinct set in `xattr_sets` as a JSON
object {name: base64 value} with sorted keys, the same text a disc's catalogue.json carries.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3

from odarchive.catalogue.inserts import insert

ACL_NAMES = ("system.posix_acl_access", "system.posix_acl_default")


def archived(name: str) -> bool:
    return name.startswith("user.") or name in ACL_NAMES


def read(target: int | bytes, follow_symlinks: bool = False) -> dict[str, bytes] | None:
    """The archived attributes of an open fd or a path (None when there are none).

    Raises OSError when the attributes cannot be listed (the caller decides what that means);
    a file system without xattr support reads as having none.
    """
    try:
        names = (
            os.listxattr(target, follow_symlinks=follow_symlinks) if isinstance(target, bytes) else os.listxattr(target)
        )
    except OSError as e:
        if e.errno in (95, 61):  # EOPNOTSUPP, ENODATA
            return None
        raise
    out = {}
    for name in names:
        if archived(name):
            try:
                out[name] = (
                    os.getxattr(target, name, follow_symlinks=follow_symlinks)
                    if isinstance(target, bytes)
                    else os.getxattr(target, name)
                )
            except OSError as e:
                if e.errno == 61:  # removed meanwhile
                    continue
                raise
    return out or None


def encode(attrs: dict[str, bytes]) -> str:
    return json.dumps({k: base64.b64encode(v).decode() for k, v in sorted(attrs.items())}, sort_keys=True)


def decode(text: str) -> dict[str, bytes]:
    return {k: base64.b64decode(v) for k, v in json.loads(text).items()}


class XattrIds:
    """xattr_sets.id for the sets one scan meets (a few distinct sets, remembered by text)."""

    MEMO = 4096

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._ids: dict[str, int] = {}

    def id_for(self, data: str) -> int:
        found = self._ids.get(data)
        if found is None:
            row = self.conn.execute("SELECT id FROM xattr_sets WHERE data=?", (data,)).fetchone()
            found = row[0] if row else insert(self.conn, "INSERT INTO xattr_sets (data) VALUES (?)", (data,))
            if len(self._ids) < self.MEMO:
                self._ids[data] = found
        return found


def get(conn: sqlite3.Connection, set_id: int) -> dict[str, bytes]:
    row = conn.execute("SELECT data FROM xattr_sets WHERE id=?", (set_id,)).fetchone()
    return decode(row[0]) if row else {}


def text_of(conn: sqlite3.Connection, set_id: int) -> str | None:
    row = conn.execute("SELECT data FROM xattr_sets WHERE id=?", (set_id,)).fetchone()
    return row[0] if row else None
