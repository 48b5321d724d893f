"""Queries on `chunk_hashes`: SHA-256 of each `chunk_size` chunk of large contents.

A content larger than `CHUNKED_MIN_CHUNKS` chunks gets them (the mount reads smaller ones
whole, checked by the content hash: fuse_mount's `whole_max_bytes`, 64 MiB), and so does every
content split across discs. The scan records them while it hashes (every byte is read anyway),
so `create_iso` of unchanged content hashes each byte once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

CHUNKED_MIN_CHUNKS = 4


def wants_chunk_hashes(size: int, chunk_size: int) -> bool:
    """Whether a whole content gets per-chunk hashes (large ones only)."""
    return size > CHUNKED_MIN_CHUNKS * chunk_size


def record(conn: sqlite3.Connection, rows: Iterable[tuple[int, int, bytes]]) -> None:
    """(content_id, chunk, sha256) rows; chunks already known are kept."""
    conn.executemany("INSERT OR IGNORE INTO chunk_hashes (content_id, chunk, sha256) VALUES (?, ?, ?)", rows)


def of_content(conn: sqlite3.Connection, content_id: int, first: int = 0, last: int | None = None) -> dict[int, bytes]:
    """Chunk number -> SHA-256 for chunks first..last (all when last is None)."""
    rows = conn.execute(
        "SELECT chunk, sha256 FROM chunk_hashes WHERE content_id=? AND chunk BETWEEN ? AND ?",
        (content_id, first, (1 << 62) if last is None else last),
    )
    return {chunk: bytes(sha) for chunk, sha in rows}
