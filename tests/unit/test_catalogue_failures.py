"""SQLite's errors reach the user as the catalogue's exit code with a hint that says what to
do (`odarchive.catalogue.failures`; the command line knows no database exception types)."""

from __future__ import annotations

import sqlite3

import pytest

from odarchive.catalogue.failures import hint_for
from odarchive.cli import _classify
from odarchive.errors import EXIT_CATALOGUE


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (sqlite3.OperationalError("database is locked"), "another odarchive process"),
        (sqlite3.OperationalError("database or disk is full"), "disk holding the home is full"),
        (sqlite3.OperationalError("disk I/O error"), "could not be written"),
        (sqlite3.DatabaseError("file is not a database"), "damaged"),
    ],
)
def test_database_errors_give_the_catalogue_exit_code_and_a_hint(error: Exception, says: str) -> None:
    hint = hint_for(error)
    assert hint is not None and says in hint
    assert _classify(error) == (EXIT_CATALOGUE, hint)


def test_other_errors_are_not_the_catalogue_s() -> None:
    assert hint_for(ValueError("database is locked")) is None
    assert _classify(ValueError("database is locked")) == (None, "")
