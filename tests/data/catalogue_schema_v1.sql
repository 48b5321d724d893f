-- A frozen copy of odarchive/catalogue/schema.sql at schema version 1 (until commit 2f77bdb),
-- for the migration tests (tests/unit/test_catalogue_migrations.py, test_catalogue_schema.py): catalogues written then must still open. Never edit.
-- odarchive catalogue, schema version 1.
--
-- One SQLite file per home (catalogue.sqlite), WAL mode. Names and paths are raw bytes (BLOB)
-- exactly as the file system gave them, never decoded, so names that are not UTF-8 round-trip.
--
-- Versioning: an entry row is valid for a range of snapshots of its source, from first_snap
-- to last_snap; last_snap is NULL ("open") while the entry is still present in the source's
-- latest scan. A re-scan writes nothing for an unchanged entry; a changed or vanished entry's
-- row is closed (last_snap = the previous snapshot) and a changed one gets a new open row.
-- "Entries of snapshot S" = rows with first_snap <= S AND (last_snap IS NULL OR last_snap >= S)
-- under S's source (odarchive.catalogue.catalogue.valid_in writes that condition).
-- Snapshot ids are global and increase, so a range of one source may span ids of another
-- source's snapshots: queries over a whole snapshot always filter on entries.source_id too
-- (queries by directory are scoped already: a directory node belongs to one source).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL               -- schema_version, archive_id, created_ns, chunk_size
);

-- A directory tree being archived. root_name is the first component of every archived path.
CREATE TABLE sources (
    id        INTEGER PRIMARY KEY,
    root_name BLOB NOT NULL UNIQUE,
    path      BLOB NOT NULL,          -- absolute path last scanned (bytes)
    root_dir  INTEGER NOT NULL        -- dirs.id of the root directory node
);

-- One scan of a source. A scan is 'running' until it completes; an interrupted scan stays
-- 'running' (with a dead pid) and the next create_db of the same source continues it.
CREATE TABLE snapshots (
    id          INTEGER PRIMARY KEY,
    source_id   INTEGER NOT NULL REFERENCES sources(id),
    started_ns  INTEGER NOT NULL,
    finished_ns INTEGER,
    state       TEXT NOT NULL CHECK (state IN ('running', 'complete')),
    phase       TEXT NOT NULL DEFAULT 'walk'  -- walk -> hash -> done (for resuming)
);
CREATE INDEX snapshots_by_source ON snapshots(source_id, id);

-- Directory identity (a path), independent of versions: children point here. A source's
-- root directory has parent_id 0 and the root name as its name.
CREATE TABLE dirs (
    id        INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL,
    name      BLOB NOT NULL,
    sig       BLOB,                   -- digest of the directory's listing when its open rows last
                                      -- matched it (names + stat); NULL when unknown. A re-scan
                                      -- that lists the same digest skips comparing row by row.
    UNIQUE (parent_id, name)
);

-- A unique byte sequence (dedup key: SHA-256).
CREATE TABLE contents (
    id     INTEGER PRIMARY KEY,
    sha256 BLOB NOT NULL UNIQUE,      -- 32 raw bytes
    size   INTEGER NOT NULL
);

-- A file, directory or symlink in a directory, valid for snapshots first_snap..last_snap.
-- The root directory of a source is an entry with dir_id 0 and its root name.
-- For kind 'd', the directory node with (parent_id = dir_id, name = name) holds the children.
CREATE TABLE entries (
    id         INTEGER PRIMARY KEY,
    source_id  INTEGER NOT NULL,      -- sources.id
    dir_id     INTEGER NOT NULL,      -- dirs.id of the containing directory
    name       BLOB NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('f', 'd', 'l')),
    first_snap INTEGER NOT NULL,
    last_snap  INTEGER,               -- NULL: open (present in the latest scan)
    size       INTEGER NOT NULL,      -- file bytes; symlink target length; 0 for directories
    mtime_ns   INTEGER NOT NULL,
    mode       INTEGER NOT NULL,      -- st_mode: type and permission bits
    ino        INTEGER,               -- st_ino, to notice replaced files on a re-scan
    content_id INTEGER,               -- files: contents.id; NULL until hashed
    target     BLOB                   -- symlinks: the target, as bytes
);
CREATE INDEX entries_by_dir ON entries(dir_id, name, last_snap);
CREATE INDEX entries_by_content ON entries(content_id) WHERE content_id IS NOT NULL;
-- Files still to hash (small: only rows of a running or interrupted scan).
CREATE INDEX entries_unhashed ON entries(first_snap) WHERE kind = 'f' AND content_id IS NULL;

-- Entries a scan could not archive, with the reason (unreadable, FIFO, changed while read...).
CREATE TABLE skipped (
    snapshot_id INTEGER NOT NULL,
    dir_id      INTEGER NOT NULL,
    name        BLOB NOT NULL,
    reason      TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, dir_id, name)
) WITHOUT ROWID;

-- ---- Disc plan (filled by plan_iso / create_iso / robot burn) ----

-- One optical medium, numbered from 0.
CREATE TABLE discs (
    id             INTEGER PRIMARY KEY,   -- disc number
    label          TEXT NOT NULL,         -- volume label
    capacity_bytes INTEGER NOT NULL,      -- the medium's usable size
    used_bytes     INTEGER NOT NULL,      -- planned image size (data + overhead)
    state          TEXT NOT NULL DEFAULT 'planned'
                   CHECK (state IN ('planned', 'written', 'burned', 'verified')),
    planned_ns     INTEGER NOT NULL,
    image_name     TEXT,                  -- file name of the written image
    image_size     INTEGER,
    image_sha256   BLOB,
    written_ns     INTEGER,
    -- set by `robot burn` (odarchive/burnlog.py): where the burned disc is and how it went
    slot           INTEGER,               -- changer storage slot holding the disc (NULL: unknown)
    burn_drive     INTEGER,               -- drive that burned it
    burned_ns      INTEGER,               -- when the burn finished
    burn_seconds   REAL,                  -- burn + verify wall time
    verified_ns    INTEGER                -- when the read-back matched image_sha256
);

-- Media a `robot burn` must not use again: failed burns or verifies, and media that were not
-- blank. A slot listed here holds no archive disc of ours (unless a later row in discs says so).
CREATE TABLE rejected_media (
    slot    INTEGER NOT NULL,
    disc_id INTEGER,                      -- the disc whose burn failed on it (NULL: not blank)
    reason  TEXT NOT NULL,
    at_ns   INTEGER NOT NULL
);

-- A content, or a piece of a content larger than a disc, placed on a disc.
CREATE TABLE placements (
    content_id   INTEGER NOT NULL,
    piece        INTEGER NOT NULL,        -- 0: whole content; 1..n: pieces of a split content
    disc_id      INTEGER NOT NULL,
    offset       INTEGER NOT NULL,        -- where this piece starts within the content
    length       INTEGER NOT NULL,
    path_on_disc BLOB,                    -- UDF path on the disc (UTF-8, e.g. /DATA/root/a.part001)
    raw_path     BLOB,                    -- archived path (root/dir/name) of the file placed
    mtime_ns     INTEGER,                 -- that file's mtime (for the disc's catalogue.json)
    mode         INTEGER,                 -- that file's st_mode (for the disc's catalogue.json)
    sha256       BLOB,                    -- pieces: SHA-256 of the piece, set once it was read
    PRIMARY KEY (content_id, piece)
) WITHOUT ROWID;
CREATE INDEX placements_by_disc ON placements(disc_id);

-- Where a placement's bytes lie inside the disc image (from pycdlib get_file_byte_extents):
-- several extents for multi-extent files over 4 GiB.
CREATE TABLE extents (
    content_id   INTEGER NOT NULL,
    piece        INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    image_offset INTEGER NOT NULL,
    length       INTEGER NOT NULL,
    PRIMARY KEY (content_id, piece, seq)
) WITHOUT ROWID;

-- SHA-256 of fixed-size chunks (meta chunk_size) of large contents, so a partial read can be
-- verified without reading the whole content.
CREATE TABLE chunk_hashes (
    content_id INTEGER NOT NULL,
    chunk      INTEGER NOT NULL,
    sha256     BLOB NOT NULL,
    PRIMARY KEY (content_id, chunk)
) WITHOUT ROWID;
