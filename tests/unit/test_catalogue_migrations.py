# Its subject is the migrations themselves (old catalogues made by hand), so this test may use SQL
# (tests/unit/test_sql_boundary.py exempts it).
"""A catalogue made by an older odarchive is brought forward when opened, and keeps its rows:
one of version 3 (before disc_names), one of version 5 (before ecc_format), one of version 6
(before the packed entries of schema 7, every field of every kind of row compared) and one of
version 1 (as the first odarchive wrote it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from odarchive.catalogue import Catalogue, images
from odarchive.catalogue.db import SCHEMA_VERSION
from odarchive.catalogue.scanning import ScanRows

DATA = Path(__file__).parents[1] / "data"
V6_SCHEMA = DATA / "catalogue_schema_v6.sql"  # schema.sql as odarchive wrote it until schema 7


def _v6(path: Path) -> sqlite3.Connection:
    """A new, empty catalogue of schema version 6 at `path` (raw SQL: the old format itself, which
    no current API writes); the caller commits and closes."""
    conn = sqlite3.connect(path)
    conn.executescript(V6_SCHEMA.read_text())
    conn.execute("INSERT INTO meta VALUES ('schema_version', '6'), ('archive_id', 'x'), ('chunk_size', '16777216')")
    return conn


def _older(path: Path, discs: str, version: int, undo: tuple[str, ...]) -> None:
    """A catalogue at `path` with the rows `discs` (VALUES of discs(id, label, capacity_bytes,
    used_bytes, state, planned_ns, ecc_roots)), made what `version` was from schema 6 by the
    `undo` statements."""
    conn = _v6(path)
    conn.execute(
        f"INSERT INTO discs(id, label, capacity_bytes, used_bytes, state, planned_ns, ecc_roots) VALUES {discs}"
    )
    for statement in undo:
        conn.execute(statement)
    conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(version),))
    conn.commit()
    conn.close()


def test_a_version_3_catalogue_gains_disc_names(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite"
    _older(
        path,
        "(0, 'L', 1, 1, 'planned', 0, NULL)",
        3,
        (
            "DROP TABLE disc_names",  # and what versions 5 and 6 added:
            "DROP TABLE disc_copies",
            "DROP TABLE disc_health",
            "ALTER TABLE discs DROP COLUMN location",
            "ALTER TABLE discs DROP COLUMN ecc_format",
        ),
    )
    with Catalogue.open(path) as cat:
        assert cat.meta("schema_version") == str(SCHEMA_VERSION)
        assert cat.conn.execute("SELECT count(*) FROM disc_names").fetchone()[0] == 0
        assert cat.conn.execute("SELECT label FROM discs").fetchall() == [("L",)]


def test_discs_planned_before_version_6_keep_rs02(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite"
    _older(
        path,
        "(0, 'L', 1, 1, 'verified', 0, 34), (1, 'L', 1, 1, 'planned', 0, NULL)",
        5,
        ("ALTER TABLE discs DROP COLUMN ecc_format",),
    )
    with Catalogue.open(path) as cat:
        assert cat.conn.execute("SELECT id, ecc_format FROM discs ORDER BY id").fetchall() == [(0, "RS02"), (1, None)]


V1_SCHEMA = DATA / "catalogue_schema_v1.sql"  # schema.sql as odarchive wrote it until 2f77bdb


def test_a_schema_1_catalogue_is_migrated_and_keeps_its_discs(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_SCHEMA.read_text())
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1'), ('archive_id', 'x'), ('chunk_size', '16777216')")
        conn.execute(
            "INSERT INTO discs(id, label, capacity_bytes, used_bytes, state, planned_ns, slot)"
            " VALUES (0, 'OLD', 100, 90, 'verified', 1, 7)"
        )
    with Catalogue.open(path) as cat:
        assert cat.meta("schema_version") == str(SCHEMA_VERSION)
        row = cat.conn.execute("SELECT state, slot, medium_bytes, ecc_roots, location FROM discs").fetchone()
        assert row == ("verified", 7, None, None, None)
        cat.conn.execute("INSERT INTO disc_copies(disc_id, copy) VALUES (0, 1)")
        cat.conn.execute("INSERT INTO disc_health(disc_id, copy, at_ns, result) VALUES (0, 0, 1, 'ok')")


# (id, source_id, dir_id, name, first_snap, last_snap, size, mtime_ns, ctime_off, mode, owner, content_id,
# target, xattrs, ino): every kind of row schema 6 held
V6_ENTRIES = [
    (1, 1, 0, b"src", 1, None, 0, 10**18, 0, 0o040755, 1, None, None, None, None),
    (2, 1, 1, b"a", 1, None, 5, 10**18 + 1, 7, 0o100644, 2, 1, None, 1, 77),  # owner, xattrs, hard link
    (3, 1, 1, b"b", 1, 1, 5, 10**18 + 2, None, 0o104755, 1, 1, None, None, None),  # closed, setuid, no ctime
    (4, 1, 1, b"b", 2, None, 6, 10**18 + 3, -3, 0o100600, 1, 3, None, None, None),  # its later version
    (5, 1, 1, b"link", 1, None, 1, 10**18 + 4, 0, 0o120777, 1, None, b"a", None, None),  # symlink
    (6, 1, 1, b"new", 2, None, 9, 10**18 + 5, 0, 0o100644, None, None, None, None, None),  # not hashed yet
    (7, 1, 1, b"a2", 2, None, 5, 10**18 + 6, 0, 0o100644, 2, 1, None, None, 77),  # a's other hard link
]
_V6_COLUMNS = (
    "id, source_id, dir_id, name, first_snap, last_snap, size, mtime_ns, ctime_off, mode, owner, content_id,"
    " target, xattrs, ino"
)


def test_a_version_6_catalogue_keeps_every_field_of_every_entry(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite"
    conn = _v6(path)
    conn.execute("INSERT INTO dirs (id, parent_id, name) VALUES (1, 0, 'src')")
    conn.execute("INSERT INTO sources VALUES (1, 'src', '/src', 1)")
    conn.execute("INSERT INTO snapshots VALUES (1, 1, 1, 2, 'complete', 'done'), (2, 1, 3, NULL, 'running', 'hash')")
    conn.executemany("INSERT INTO contents VALUES (?, ?, ?)", [(i, bytes([i]) * 32, 5) for i in (1, 2, 3)])
    conn.execute("INSERT INTO owners VALUES (1, 0, 0, 'root', 'root'), (2, 1000, 1000, 'u', NULL)")
    conn.execute("""INSERT INTO xattr_sets VALUES (1, '{"user.a": "eA=="}')""")
    conn.executemany(f"INSERT INTO entries ({_V6_COLUMNS}) VALUES ({','.join('?' * 15)})", V6_ENTRIES)
    conn.execute("INSERT INTO discs (id, label, capacity_bytes, used_bytes, planned_ns) VALUES (0, 'L', 1, 1, 0)")
    for cid in (1, 2):  # content 2 is on a disc, but no entry has it any more
        conn.execute(
            "INSERT INTO placements (content_id, piece, disc_id, offset, length) VALUES (?, 0, 0, 0, 5)", (cid,)
        )
        conn.execute("INSERT INTO extents VALUES (?, 0, 0, 0, 5)", (cid,))
        conn.execute("INSERT INTO chunk_hashes VALUES (?, 0, ?)", (cid, b"h" * 32))
        conn.execute("INSERT INTO disc_names VALUES (0, ?, ?, 0, 33188)", (b"src/n%d" % cid, cid))
    conn.commit()
    conn.close()
    with Catalogue.open(path) as cat:
        assert cat.meta("schema_version") == str(SCHEMA_VERSION)
        renumbered = {1: 2, 2: 8, 3: 4}  # contents take their first entry's id (below)
        assert cat.conn.execute(f"SELECT {_V6_COLUMNS} FROM entries ORDER BY id").fetchall() == [
            (*row[:11], renumbered.get(row[11]), *row[12:]) for row in V6_ENTRIES
        ]
        assert [r[0] for r in cat.conn.execute("SELECT kind FROM entries ORDER BY id")] == list("dffflff")
        # contents took the id of their first entry (2 no entry has: after the last entry), in
        # every table that names them; only further names are in the index by content
        assert [(cid, sha[0]) for cid, sha in cat.conn.execute("SELECT id, sha256 FROM contents ORDER BY id")] == [
            (2, 1),
            (4, 3),
            (8, 2),
        ]
        assert cat.conn.execute("SELECT id, content_off FROM entries WHERE content_off IS NOT NULL").fetchall() == [
            (2, 0),
            (3, -1),
            (4, 0),
            (7, -5),
        ]
        assert [name for _, name, _, _ in images.live_names_of(cat.conn, 2)] == [b"a", b"a2"]
        for table in ("placements", "extents", "chunk_hashes", "disc_names"):
            assert cat.conn.execute(f"SELECT content_id FROM {table} ORDER BY 1").fetchall() == [(2,), (8,)], table
        # and the rows are written as before: the hash phase gives the unhashed file its content
        rows = ScanRows(cat.conn, 1, 2, 1)
        assert [r[0] for r in rows.unhashed()] == [6]
        with cat.transaction():
            (cid,), new = rows.set_contents([(b"\x09" * 32, 9, 10**18 + 5, 0, 1, 6)])
        assert new == 1 and cid == 6  # a new content takes its entry's id (no content has it)
        assert cat.conn.execute("SELECT content_id, content_off, xattrs, owner FROM entries WHERE id=6").fetchone() == (
            6,
            0,
            1,
            None,
        )
