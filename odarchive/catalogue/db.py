"""Opening the catalogue: connection settings, schema creation and migrations.

`schema.sql` is the current schema (new catalogues). Each later version adds a function to
`MIGRATIONS` that upgrades a catalogue from the version before; `open_catalogue` applies the missing ones in one
transaction. A catalogue newer than this odarchive is refused, never touched.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from importlib import resources
from pathlib import Path
from typing import Callable

from odarchive.errors import CatalogueError

SCHEMA_VERSION = 2
DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024


def _v2_error_correction(conn: sqlite3.Connection) -> None:
    """Discs planned with error correction: the medium's size and the RS02 roots."""
    conn.execute("ALTER TABLE discs ADD COLUMN medium_bytes INTEGER")
    conn.execute("ALTER TABLE discs ADD COLUMN ecc_roots INTEGER")


# version N -> function upgrading a catalogue from N-1 to N
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    2: _v2_error_correction,
}


def connect(path: Path, *, readonly: bool = False, check_same_thread: bool = True) -> sqlite3.Connection:
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None, check_same_thread=check_same_thread)
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache: bounded whatever the tree
    except sqlite3.Error as e:
        raise CatalogueError(f"cannot open catalogue {path}: {e}", hint="check the path and permissions") from None
    return conn


def open_catalogue(path: Path, *, create: bool, readonly: bool = False, check_same_thread: bool = True) -> sqlite3.Connection:
    exists = path.exists()
    if not exists and not create:
        raise CatalogueError(
            f"no catalogue at {path}",
            hint="run `odarchive create_db SOURCE` first, or pass --home to the archive's home",
        )
    conn = connect(path, readonly=readonly and exists, check_same_thread=check_same_thread)
    try:
        version = _schema_version(conn)
        if version is None:
            if readonly:
                raise CatalogueError(f"{path} is not an odarchive catalogue")
            _create(conn)
        elif version > SCHEMA_VERSION:
            raise CatalogueError(
                f"{path} has catalogue schema {version}, newer than this odarchive understands ({SCHEMA_VERSION})",
                hint="upgrade odarchive",
            )
        elif version < SCHEMA_VERSION and not readonly:
            _migrate(conn, version)
    except sqlite3.DatabaseError as e:
        conn.close()
        raise CatalogueError(f"{path} is not a readable catalogue: {e}", hint="restore it from a backup or `odarchive rebuild` from discs") from None
    except CatalogueError:
        conn.close()
        raise
    return conn


def _schema_version(conn: sqlite3.Connection) -> int | None:
    row = conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='meta'").fetchone()
    if row is None:
        if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise CatalogueError("the file is an SQLite database but not an odarchive catalogue")
        return None
    value = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    return int(value[0]) if value else None


def _create(conn: sqlite3.Connection) -> None:
    sql = resources.files("odarchive.catalogue").joinpath("schema.sql").read_text()
    meta = "".join(
        f"INSERT INTO meta(key, value) VALUES ('{k}', '{v}');"
        for k, v in (
            ("schema_version", SCHEMA_VERSION),
            ("archive_id", uuid.uuid4().hex),
            ("created_ns", time.time_ns()),
            ("chunk_size", DEFAULT_CHUNK_SIZE),
        )
    )
    try:
        conn.executescript("BEGIN IMMEDIATE;" + sql + meta + "COMMIT;")
    except sqlite3.OperationalError as e:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if "already exists" not in str(e):  # else another process created it first: fine
            raise


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for target in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[target](conn)
            conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(target),))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise

