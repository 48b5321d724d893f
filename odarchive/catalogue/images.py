"""Queries of the disc image builder and checker (`odarchive.iso`): a planned disc's row, its
placements and further names in layout order, the pieces of a split content, and what a
written image records (extents, disc paths, piece hashes, the image's name, size and hash).

Chunk hashes have their own module (`chunks`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from odarchive.catalogue import entryrows

SMALL_CACHE_KIB = 16384

PlacementRow = tuple[int, int, int, int, bytes, int, int, bytes, bytes | None, int]


def disc_row(conn: sqlite3.Connection, disc_id: int) -> tuple[str, int, int, str] | None:
    """(label, capacity_bytes, used_bytes, state) of a disc, or None."""
    return conn.execute("SELECT label, capacity_bytes, used_bytes, state FROM discs WHERE id=?", (disc_id,)).fetchone()


@contextmanager
def small_cache(conn: sqlite3.Connection) -> Iterator[None]:
    """A 16 MiB page cache for the connection while an image is built (its queries go by index,
    the OS page cache serves the rest): at a million files the 64 MiB cache was a fifth of the
    build's memory. The connection's own size comes back afterwards."""
    before = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size=-{SMALL_CACHE_KIB}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size={int(before)}")


def disc_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM discs").fetchone()[0]


def placements(conn: sqlite3.Connection, disc_id: int) -> Iterator[PlacementRow]:
    """A disc's placements (content_id, piece, offset, length, content sha256, content size,
    mtime_ns, raw_path, piece sha256, mode), the fields of `iso.placed.Placed`, in no order:
    the layout orders them (sorting a million rows here cost 57 MB and 20 s)."""
    return conn.execute(
        "SELECT p.content_id, p.piece, p.offset, p.length, c.sha256, c.size, p.mtime_ns, p.raw_path, p.sha256,"
        " coalesce(p.mode, 33188)"
        " FROM placements p JOIN contents c ON c.id = p.content_id WHERE p.disc_id=?",
        (disc_id,),
    )


def named_contents(conn: sqlite3.Connection, disc_id: int) -> set[int]:
    """The contents a disc lists under further names (dedup)."""
    return {cid for (cid,) in conn.execute("SELECT DISTINCT content_id FROM disc_names WHERE disc_id=?", (disc_id,))}


def further_names(conn: sqlite3.Connection, disc_id: int) -> Iterator[tuple[int, bytes, int, int]]:
    """(content_id, raw_path, mtime_ns, mode) of each further name on a disc, by path."""
    for content_id, raw_path, mtime_ns, mode in conn.execute(
        "SELECT content_id, raw_path, mtime_ns, mode FROM disc_names WHERE disc_id=? ORDER BY raw_path", (disc_id,)
    ):
        yield content_id, bytes(raw_path), mtime_ns, mode


def source_roots(conn: sqlite3.Connection) -> dict[bytes, bytes]:
    """Root name -> the absolute source path last scanned."""
    return {bytes(name): bytes(path) for name, path in conn.execute("SELECT root_name, path FROM sources")}


def pieces_of(conn: sqlite3.Connection, content_id: int) -> list[tuple[int, int, int]]:
    """(piece, offset, length) of every piece of a split content, in order."""
    return conn.execute(
        "SELECT piece, offset, length FROM placements WHERE content_id=? ORDER BY piece", (content_id,)
    ).fetchall()


def record_piece_hashes(conn: sqlite3.Connection, content_id: int, hashes: Iterable[tuple[int, bytes]]) -> None:
    """(piece, sha256) of pieces of a content, once read."""
    conn.executemany(
        "UPDATE placements SET sha256=? WHERE content_id=? AND piece=?", [(h, content_id, piece) for piece, h in hashes]
    )


def record_layout(
    conn: sqlite3.Connection,
    keys: list[tuple[int, int]],
    extents: list[tuple[int, int, int, int, int]],
    paths: list[tuple[bytes, int, int]],
) -> None:
    """Where placements lie in a written image: for each (content_id, piece) of `keys` its
    extents (content_id, piece, seq, image_offset, length) replace an earlier build's, and its
    UDF path (path, content_id, piece) is set."""
    conn.executemany("DELETE FROM extents WHERE content_id=? AND piece=?", keys)
    conn.executemany("INSERT INTO extents(content_id, piece, seq, image_offset, length) VALUES (?,?,?,?,?)", extents)
    conn.executemany("UPDATE placements SET path_on_disc=? WHERE content_id=? AND piece=?", paths)


def mark_written(conn: sqlite3.Connection, disc_id: int, image_name: str, size: int, sha256: bytes) -> None:
    """A disc's image was written (a burned or verified disc keeps its state)."""
    conn.execute(
        "UPDATE discs SET state=CASE WHEN state='planned' THEN 'written' ELSE state END, image_name=?,"
        " image_size=?, image_sha256=?, written_ns=CAST(strftime('%s','now') AS INTEGER)*1000000000 WHERE id=?",
        (image_name, size, sha256, disc_id),
    )


def expected_hashes(conn: sqlite3.Connection, disc_id: int) -> Iterator[tuple[bytes, int, bytes | None, bytes]]:
    """(path_on_disc, piece, piece sha256, content sha256) of a written disc's placements."""
    return conn.execute(
        "SELECT p.path_on_disc, p.piece, p.sha256, c.sha256 FROM placements p JOIN contents c ON c.id=p.content_id"
        " WHERE p.disc_id=? AND p.path_on_disc IS NOT NULL",
        (disc_id,),
    )


def live_names_of(conn: sqlite3.Connection, content_id: int) -> Iterator[tuple[int, bytes, int, int]]:
    """(dir_id, name, mode, mtime_ns) of the files with this content in their source's latest scan."""
    for dir_id, name, mode, mtime_ns in conn.execute(
        f"SELECT dir_id, name, mode, mtime_ns FROM entries WHERE {entryrows.BY_CONTENT} AND kind='f'"
        " AND last_snap IS NULL ORDER BY dir_id, name",
        {"content": content_id},
    ):
        yield dir_id, bytes(name), mode, mtime_ns


def disc_map(conn: sqlite3.Connection) -> Iterator[tuple[int, str, int]]:
    """(disc, content sha256 as lower-case hex, piece) of every placement of the archive."""
    for d, sha, piece in conn.execute(
        "SELECT p.disc_id, hex(c.sha256), p.piece FROM placements p JOIN contents c ON c.id=p.content_id"
        " ORDER BY p.disc_id, c.sha256, p.piece"
    ):
        yield d, sha.lower(), piece
