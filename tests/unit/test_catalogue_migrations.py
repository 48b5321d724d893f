"""A catalogue made by an older odarchive is brought forward when opened, and keeps its rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from odarchive.catalogue import Catalogue
from odarchive.catalogue.db import SCHEMA_VERSION


def test_a_version_3_catalogue_gains_disc_names(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.sqlite"
    with Catalogue.open(path, create=True) as cat:
        cat.conn.execute("INSERT INTO discs(id, label, capacity_bytes, used_bytes, state, planned_ns)"
                         " VALUES (0, 'L', 1, 1, 'planned', 0)")
    conn = sqlite3.connect(path)  # make it what version 3 was
    conn.execute("DROP TABLE disc_names")
    conn.execute("UPDATE meta SET value='3' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    with Catalogue.open(path) as cat:
        assert cat.meta("schema_version") == str(SCHEMA_VERSION)
        assert cat.conn.execute("SELECT count(*) FROM disc_names").fetchone()[0] == 0
        assert cat.conn.execute("SELECT label FROM discs").fetchall() == [("L",)]
