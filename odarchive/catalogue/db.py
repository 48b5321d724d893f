"""Opening the catalogue: connection settings, schema creation and migrations.

`schema.sql` is the current schema (a new catalogue is made from it). Each version after the
first has a function in `odarchive.catalogue.migrations.MIGRATIONS` that upgrades from the
version before; `open_catalogue` applies the missing ones in one transaction. A catalogue
newer than this odarchive is refused, never touched.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from odarchive.catalogue.migrations import MIGRATIONS
from odarchive.errors import CatalogueError

SCHEMA_VERSION = 7
DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024


def connect(path: Path, *, readonly: bool = False, check_same_thread: bool = True) -> sqlite3.Connection:
    try:
        return _connect(f"file:{quote(str(path))}" + ("?mode=ro" if readonly else ""), readonly, check_same_thread)
    except sqlite3.Error as e:
        if readonly and _without_wal(path):
            # A WAL catalogue of another user (a root-owned home): SQLite cannot create the
            # shared-memory file next to it. With no WAL file, every commit is in the main file,
            # and `immutable` reads it without the shared memory.
            try:
                return _connect(f"file:{quote(str(path))}?mode=ro&immutable=1", True, check_same_thread)
            except sqlite3.Error:
                pass
        raise CatalogueError(f"cannot open catalogue {path}: {e}", hint="check the path and permissions") from None


def _connect(uri: str, readonly: bool, check_same_thread: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None, check_same_thread=check_same_thread)
    try:
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache: bounded whatever the tree
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def _without_wal(path: Path) -> bool:
    """Whether the catalogue has no write-ahead log with commits in it (its writer closed)."""
    try:
        return os.path.getsize(f"{path}-wal") == 0
    except FileNotFoundError:
        return True


def open_catalogue(
    path: Path, *, create: bool, readonly: bool = False, check_same_thread: bool = True
) -> sqlite3.Connection:
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
        elif version < SCHEMA_VERSION:  # a read-only open cannot migrate: do it first, if allowed
            conn.close()
            _upgrade_for_reading(path, version)
            conn = connect(path, readonly=True, check_same_thread=check_same_thread)
    except sqlite3.DatabaseError as e:
        conn.close()
        raise CatalogueError(
            f"{path} is not a readable catalogue: {e}",
            hint="restore it from a backup or `odarchive rebuild` from discs",
        ) from None
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


def _upgrade_for_reading(path: Path, version: int) -> None:
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        raise CatalogueError(
            f"{path} has catalogue schema {version}; this odarchive reads schema {SCHEMA_VERSION} and cannot"
            " upgrade it without write access",
            hint="run any odarchive command once as the catalogue's owner (it upgrades the catalogue)",
        )
    conn = connect(path)
    try:
        current = _schema_version(conn)
        if current is not None and current < SCHEMA_VERSION:
            _migrate(conn, current)
    finally:
        conn.close()


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
