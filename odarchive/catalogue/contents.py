"""Queries on `contents`: a unique byte sequence by its SHA-256 (see schema.sql).

The hash is stored once; lookups by hash go through the index of its first four bytes, so
every lookup here names that prefix. Writers add contents with `add`: a known hash is left
alone (the schema's trigger), so concurrent writers and repeated adds are harmless.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

BY_SHA = "substr(sha256, 1, 4) = substr(:sha, 1, 4) AND sha256 = :sha"
_PREFIXES_PER_QUERY = 500


def add(conn: sqlite3.Connection, contents: Iterable[tuple[bytes, int]]) -> int:
    """Add (sha256, size) pairs not known yet; returns how many were new."""
    return ids_for(conn, list(contents))[1]


def ids_for(conn: sqlite3.Connection, contents: list[tuple[bytes, int]]) -> tuple[list[int], int]:
    """The content id of each (sha256, size), adding those not known yet: (ids, how many were new).

    One query per few hundred hashes finds the known ones (by prefix), and the new ones get the
    next ids: a scan of small files pays two inserts per file, not two inserts and a lookup
    (measured: 100,000 files, 2.4 s -> 1.4 s of CPU). Call inside a transaction.
    """
    known: dict[bytes, int] = {}
    prefixes = list({sha[:4] for sha, _ in contents})
    for i in range(0, len(prefixes), _PREFIXES_PER_QUERY):
        part = prefixes[i : i + _PREFIXES_PER_QUERY]
        for cid, sha in conn.execute(
            f"SELECT id, sha256 FROM contents WHERE substr(sha256, 1, 4) IN ({','.join('?' * len(part))})", part
        ):
            known[bytes(sha)] = cid
    next_id = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM contents").fetchone()[0]
    new = []
    for sha, size in contents:
        if sha not in known:
            known[sha] = next_id
            new.append((next_id, sha, size))
            next_id += 1
    if new:
        conn.executemany("INSERT INTO contents (id, sha256, size) VALUES (?, ?, ?)", new)
    return [known[sha] for sha, _ in contents], len(new)


def id_of(conn: sqlite3.Connection, sha256: bytes) -> int | None:
    row = conn.execute(f"SELECT id FROM contents WHERE {BY_SHA}", {"sha": sha256}).fetchone()
    return row[0] if row else None


def size_of(conn: sqlite3.Connection, sha256: bytes) -> int | None:
    row = conn.execute(f"SELECT size FROM contents WHERE {BY_SHA}", {"sha": sha256}).fetchone()
    return row[0] if row else None


def get(conn: sqlite3.Connection, content_id: int) -> tuple[bytes, int]:
    """(sha256, size) of a content."""
    sha, size = conn.execute("SELECT sha256, size FROM contents WHERE id=?", (content_id,)).fetchone()
    return bytes(sha), size


def count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM contents").fetchone()[0]
