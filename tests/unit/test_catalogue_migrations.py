"""A catalogue made by an older odarchive is brought forward when opened, and keeps its rows:
one of version 3 (before disc_names), one of version 5 (before ecc_format) and one of version 1 (as the first odarchive wrote it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from odarchive.catalogue import Catalogue
from odarchive.catalogue.db import SCHEMA_VERSION


def _older(path: Path, discs: str, version: int, undo: tuple[str, ...]) -> None:
    """A catalogue at `path` with the rows `discs` (VALUES of discs(id, label, capacity_bytes,
    used_bytes, state, planned_ns, ecc_roots)), made what `version` was by the `undo` statements."""
    with Catalogue.open(path, create=True) as cat:
        cat.conn.execute(
            f"INSERT INTO discs(id, label, capacity_bytes, used_bytes, state, planned_ns, ecc_roots) VALUES {discs}"
        )
    conn = sqlite3.connect(path)
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


V1_SCHEMA = (
    Path(__file__).parents[1] / "data" / "catalogue_schema_v1.sql"
)  # schema.sql as odarchive wrote it until 2f77bdb


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
