"""Schema migrations: `MIGRATIONS[n]` upgrades a catalogue from version n-1 to n.

`odarchive.catalogue.db.open_catalogue` runs the missing ones in one transaction (all or
nothing) when a command opens the catalogue for writing; read-only opens of an older catalogue
are refused with a hint, since a read-only open cannot migrate.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from importlib import resources

from odarchive.catalogue import entryrows

_V3_TABLES = """
CREATE TABLE contents_v3 (
    id     INTEGER PRIMARY KEY,
    sha256 BLOB NOT NULL,
    size   INTEGER NOT NULL
);
INSERT INTO contents_v3 (id, sha256, size) SELECT id, sha256, size FROM contents;
DROP TABLE contents;
ALTER TABLE contents_v3 RENAME TO contents;
CREATE INDEX contents_by_sha ON contents(substr(sha256, 1, 4));
CREATE TRIGGER contents_unique BEFORE INSERT ON contents
WHEN EXISTS (SELECT 1 FROM contents WHERE substr(sha256, 1, 4) = substr(NEW.sha256, 1, 4) AND sha256 = NEW.sha256)
BEGIN SELECT RAISE(IGNORE); END;

CREATE TABLE owners (
    id    INTEGER PRIMARY KEY,
    uid   INTEGER NOT NULL,
    gid   INTEGER NOT NULL,
    user  TEXT,
    grp   TEXT,
    UNIQUE (uid, gid, user, grp)
);
CREATE TABLE xattr_sets (
    id   INTEGER PRIMARY KEY,
    data TEXT NOT NULL UNIQUE
);

CREATE TABLE entries_v3 (
    id         INTEGER PRIMARY KEY,
    source_id  INTEGER NOT NULL,
    dir_id     INTEGER NOT NULL,
    name       BLOB NOT NULL,
    first_snap INTEGER NOT NULL,
    last_snap  INTEGER,
    size       INTEGER NOT NULL,
    mtime_ns   INTEGER NOT NULL,
    ctime_off  INTEGER,
    mode       INTEGER NOT NULL,
    owner      INTEGER,
    content_id INTEGER,
    target     BLOB,
    xattrs     INTEGER,
    ino        INTEGER,
    kind       TEXT GENERATED ALWAYS AS (CASE mode & 0xF000 WHEN 0x8000 THEN 'f' WHEN 0x4000 THEN 'd'
                                         WHEN 0xA000 THEN 'l' END) VIRTUAL
);
INSERT INTO entries_v3 (id, source_id, dir_id, name, first_snap, last_snap, size, mtime_ns, mode, content_id, target)
    SELECT id, source_id, dir_id, name, first_snap, last_snap, size, mtime_ns,
           (mode & 0x0FFF) | CASE kind WHEN 'f' THEN 0x8000 WHEN 'd' THEN 0x4000 ELSE 0xA000 END, content_id, target
    FROM entries;
DROP TABLE entries;
ALTER TABLE entries_v3 RENAME TO entries;
CREATE INDEX entries_by_dir ON entries(dir_id, name);
CREATE INDEX entries_by_content ON entries(content_id) WHERE content_id IS NOT NULL;
CREATE INDEX entries_unhashed ON entries(first_snap) WHERE content_id IS NULL AND mode & 0xF000 = 0x8000;
CREATE INDEX entries_by_ino ON entries(source_id, ino) WHERE ino IS NOT NULL;

UPDATE dirs SET sig = NULL;
"""


def _v2_error_correction(conn: sqlite3.Connection) -> None:
    """Version 2: discs planned with error correction: the medium's size and the RS02 roots."""
    conn.execute("ALTER TABLE discs ADD COLUMN medium_bytes INTEGER")
    conn.execute("ALTER TABLE discs ADD COLUMN ecc_roots INTEGER")


def _v3_small_entries_and_metadata(conn: sqlite3.Connection) -> None:
    """Version 3: the hash stored once (prefix index), `kind` computed from `mode`, ctime instead
    of the inode number (kept for hard links only), owners and extended attributes.

    Rows from before have no ctime and no owner: the next scan fills both in where size, mtime
    and mode still match (no re-hash), and compares ctime from then on. Listing digests are
    forgotten (they did not cover the new columns), so that scan compares row by row once.
    """
    for statement in _V3_TABLES.split(";\n"):
        if statement.strip():
            conn.execute(statement)


def _v4_disc_names(conn: sqlite3.Connection) -> None:
    """Version 4: the further names of same-content files, listed on the disc that stores the
    content (`disc_names`; the planner fills it, the image writer lists them)."""
    conn.execute(
        "CREATE TABLE disc_names (disc_id INTEGER NOT NULL, raw_path BLOB NOT NULL,"
        " content_id INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, mode INTEGER NOT NULL,"
        " PRIMARY KEY (disc_id, raw_path)) WITHOUT ROWID"
    )


def _v5_copies_and_health(conn: sqlite3.Connection) -> None:
    """Version 5: copies of discs in sets, where exported discs are kept, each disc's health history
    (the tables as schema.sql defines them)."""
    sql = resources.files("odarchive.catalogue").joinpath("schema.sql").read_text()
    conn.execute("ALTER TABLE discs ADD COLUMN location TEXT")
    for start_text in ("CREATE TABLE disc_copies (", "CREATE TABLE disc_health (", "CREATE INDEX disc_health_by_disc"):
        start = sql.index(start_text)
        conn.execute(sql[start : sql.index(";", start)])


def _v6_ecc_format(conn: sqlite3.Connection) -> None:
    """Version 6: which error correction format a disc is planned with (`odarchive.ecc.formats`):
    every disc planned before carries RS02; new ones get RS03."""
    conn.execute("ALTER TABLE discs ADD COLUMN ecc_format TEXT")
    conn.execute("UPDATE discs SET ecc_format='RS02' WHERE ecc_roots IS NOT NULL")


def _v7_packed_entries(conn: sqlite3.Connection) -> None:
    """Version 7: entries in fewer bytes (schema.sql, `entries`): mode, owner and xattrs in one
    integer, first and last snapshot in one, a symlink's target and a file's inode in one column,
    the content as an offset from the entry's id, the index by content only for the further names
    of a content; the hash index on 3 bytes. The old columns stay readable as VIRTUAL columns.

    Rows keep their ids. Contents are renumbered to the id of their first entry (`_renumber`),
    so that old rows too leave the index by content to further names.
    """
    sql = resources.files("odarchive.catalogue").joinpath("schema.sql").read_text()
    for index in ("entries_by_dir", "entries_by_content", "entries_unhashed", "entries_by_ino", "contents_by_sha"):
        conn.execute(f"DROP INDEX {index}")
    conn.execute("DROP TRIGGER contents_unique")
    conn.execute("ALTER TABLE entries RENAME TO entries_v6")
    table = sql.index("CREATE TABLE entries (")
    conn.execute(sql[table : sql.index("\n);", table) + 3])
    _renumber(conn)
    conn.execute(
        "INSERT INTO entries (id, source_id, dir_id, name, snaps, size, mtime_ns, ctime_off, bits, content_off, link)"
        f" SELECT e.id, source_id, dir_id, name, {entryrows.snaps('first_snap', 'last_snap')}, size, mtime_ns,"
        f" ctime_off, {entryrows.bits('mode', 'owner', 'xattrs')}, r.new - e.id, {entryrows.link('target', 'ino')}"
        " FROM entries_v6 e LEFT JOIN renumber r ON r.old = e.content_id"
    )
    conn.execute("DROP TABLE entries_v6")
    conn.execute("DROP TABLE renumber")
    for start_text in (
        "CREATE INDEX entries_by_dir",
        "CREATE INDEX entries_by_content",
        "CREATE INDEX entries_unhashed",
        "CREATE INDEX entries_by_ino",
        "CREATE INDEX contents_by_sha",
    ):
        start = sql.index(start_text)
        conn.execute(sql[start : sql.index(";", start)])
    start = sql.index("CREATE TRIGGER contents_unique")
    conn.execute(sql[start : sql.index("END;", start) + len("END;")])


_CONTENT_IDS = (
    ("contents", "id"),
    ("placements", "content_id"),
    ("extents", "content_id"),
    ("chunk_hashes", "content_id"),
    ("disc_names", "content_id"),
)


def _renumber(conn: sqlite3.Connection) -> None:
    """Give each content the smallest id of the (schema 6) entries that have it, in every table
    that names contents; ids no entry has (contents whose files are gone) follow the largest
    entry id. Each table is written anew in key order (updating keys in place left its pages
    half empty: measured, contents 43 -> 86 bytes per content). The old -> new map stays in the
    temporary table `renumber` for the entries' rewrite."""
    conn.execute("CREATE TEMP TABLE renumber (old INTEGER PRIMARY KEY, new INTEGER NOT NULL)")
    conn.execute(
        "INSERT INTO renumber SELECT content_id, min(id) FROM entries_v6 WHERE content_id IS NOT NULL GROUP BY content_id"
    )
    named = " UNION ".join(f"SELECT {column} AS id FROM {table}" for table, column in _CONTENT_IDS)
    conn.execute(
        "INSERT INTO renumber SELECT id, (SELECT coalesce(max(id), 0) FROM entries_v6) + row_number() OVER (ORDER BY id)"
        f" FROM ({named}) WHERE id NOT IN (SELECT old FROM renumber)"
    )
    for table, column in _CONTENT_IDS:
        info = conn.execute(f"PRAGMA table_info({table})").fetchall()
        columns = [row[1] for row in info]
        key = [row[1] for row in sorted(info, key=lambda row: row[5]) if row[5]]
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name=? AND sql IS NOT NULL", (table,)
        ).fetchall()
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        mapped = ", ".join(f"(SELECT new FROM renumber WHERE old = {c}) AS {c}" if c == column else c for c in columns)
        conn.execute(f"CREATE TEMP TABLE old_rows AS SELECT * FROM {table}")
        conn.execute(f"DELETE FROM {table}")
        conn.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM (SELECT {mapped} FROM old_rows) ORDER BY {', '.join(key)}"
        )
        conn.execute("DROP TABLE old_rows")
        for _, sql in indexes:
            conn.execute(sql)


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    2: _v2_error_correction,
    3: _v3_small_entries_and_metadata,
    4: _v4_disc_names,
    5: _v5_copies_and_health,
    6: _v6_ecc_format,
    7: _v7_packed_entries,
}
