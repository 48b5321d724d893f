"""Queries on `contents`: a unique byte sequence by its SHA-256 (see schema.sql).

The hash is stored once; lookups by hash go through the index of its first three bytes, so
every lookup here names that prefix. Writers add contents with `add`: a known hash is left
alone (the schema's trigger), so concurrent writers and repeated adds are harmless.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence

PREFIX = 3
BY_SHA = f"substr(sha256, 1, {PREFIX}) = substr(:sha, 1, {PREFIX}) AND sha256 = :sha"
_PER_QUERY = 500


def add(conn: sqlite3.Connection, contents: Iterable[tuple[bytes, int]]) -> int:
    """Add (sha256, size) pairs not known yet; returns how many were new."""
    return ids_for(conn, list(contents))[1]


def ids_for(
    conn: sqlite3.Connection, contents: list[tuple[bytes, int]], prefer: Sequence[int] | None = None
) -> tuple[list[int], int]:
    """The content id of each (sha256, size), adding those not known yet: (ids, how many were new).

    One query per few hundred hashes finds the known ones (by prefix), and the new ones get
    ids at once: a scan of small files pays two inserts per file, not two inserts and a lookup
    (measured: 100,000 files, 2.4 s -> 1.4 s of CPU). A new content takes its `prefer` id (the
    id of the entry that brings it: schema.sql, entries.content_off) where no content has it,
    else the next free one. Call inside a transaction.
    """
    known: dict[bytes, int] = {}
    prefixes = {sha[:PREFIX] for sha, _ in contents}
    for cid, sha in _select_in(conn, f"SELECT id, sha256 FROM contents WHERE substr(sha256, 1, {PREFIX}) IN", prefixes):
        known[bytes(sha)] = cid
    wanted = [prefer[i] for i, (sha, _) in enumerate(contents) if sha not in known] if prefer is not None else []
    taken = {cid for (cid,) in _select_in(conn, "SELECT id FROM contents WHERE id IN", set(wanted))}
    next_id = max(
        conn.execute("SELECT coalesce(max(id), 0) + 1 FROM contents").fetchone()[0], max(wanted, default=0) + 1
    )
    new = []
    for i, (sha, size) in enumerate(contents):
        if sha not in known:
            if prefer is not None and prefer[i] not in taken:
                cid = prefer[i]
            else:
                cid, next_id = next_id, next_id + 1
            taken.add(cid)
            known[sha] = cid
            new.append((cid, sha, size))
    if new:
        conn.executemany("INSERT INTO contents (id, sha256, size) VALUES (?, ?, ?)", new)
    return [known[sha] for sha, _ in contents], len(new)


def _select_in(conn: sqlite3.Connection, sql: str, values: Iterable[object]) -> Iterator[tuple]:
    """Rows of `sql` + " (?, ?, ...)" over `values`, a few hundred values per query."""
    values = list(values)
    for i in range(0, len(values), _PER_QUERY):
        part = values[i : i + _PER_QUERY]
        yield from conn.execute(f"{sql} ({','.join('?' * len(part))})", part)


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
