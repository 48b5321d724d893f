-- odarchive catalogue, schema version 7 (odarchive/catalogue/migrations.py brings versions 1 to 6 forward).
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

-- A unique byte sequence (dedup key: SHA-256). The hash is stored once: lookups by hash go through
-- an index of its first 3 bytes (13 bytes per content instead of 45 for a UNIQUE index on all 32,
-- measured with dbstat; 16 million prefixes keep a lookup at about one row), and the trigger keeps
-- hashes unique, so `INSERT OR IGNORE` and a plain INSERT of a known hash both leave the existing
-- row alone. odarchive.catalogue.contents holds the queries; a lookup by hash must name the prefix
-- (`substr(sha256, 1, 3) = ...`) to use it. A new content takes the id of the entry that brought it
-- where that id is free (see entries.content_off).
CREATE TABLE contents (
    id     INTEGER PRIMARY KEY,
    sha256 BLOB NOT NULL,             -- 32 raw bytes
    size   INTEGER NOT NULL
);
CREATE INDEX contents_by_sha ON contents(substr(sha256, 1, 3));
CREATE TRIGGER contents_unique BEFORE INSERT ON contents
WHEN EXISTS (SELECT 1 FROM contents WHERE substr(sha256, 1, 3) = substr(NEW.sha256, 1, 3) AND sha256 = NEW.sha256)
BEGIN SELECT RAISE(IGNORE); END;

-- Owner and group of entries (numeric ids and the names they had on the scanning machine; a
-- name is NULL when the id had none). Few rows: entries point here.
CREATE TABLE owners (
    id    INTEGER PRIMARY KEY,
    uid   INTEGER NOT NULL,
    gid   INTEGER NOT NULL,
    user  TEXT,
    grp   TEXT,
    UNIQUE (uid, gid, user, grp)
);

-- Extended attributes of entries: `user.*` and POSIX ACLs (`system.posix_acl_access`,
-- `system.posix_acl_default`), one row per distinct set (files usually share a few sets).
-- data: JSON object {name: base64 value}, keys sorted (odarchive.catalogue.xattrs).
CREATE TABLE xattr_sets (
    id   INTEGER PRIMARY KEY,
    data TEXT NOT NULL UNIQUE
);

-- A file, directory or symlink in a directory, valid for snapshots first_snap..last_snap.
-- The root directory of a source is an entry with dir_id 0 and its root name.
-- For kind 'd', the directory node with (parent_id = dir_id, name = name) holds the children.
--
-- Every column costs bytes times tens of millions (schema 7: 118.7 bytes per file with its content
-- and indexes at a million files, from 141.7; BENCHMARKS.md, "Catalogue size, schema 7"), so rows
-- store a few packed integers and the columns every query reads are VIRTUAL ones computed from
-- them (no bytes on disk). Writers go through odarchive.catalogue.entryrows, which packs them:
--   snaps       = first_snap | last_snap << 32 (last_snap 0: open)
--   bits        = permission bits (12) | type << 12 (0 file, 1 directory, 2 symlink)
--                 | owners.id << 14 (20 bits) | xattr_sets.id << 34 (0: none or not known)
--   content_off = content_id - id: 0 for the file whose scan brought the content (its id is the
--                 content's), so only further names of a content (dedup, later versions, hard
--                 links) are in entries_by_content; NULL until hashed
--   link        = a symlink's target (bytes), or a hard-linked file's st_ino
-- ctime is stored as its distance from mtime (0 for most files: no byte at all), absent metadata
-- is NULL or 0 (one header byte or none).
CREATE TABLE entries (
    id          INTEGER PRIMARY KEY,
    source_id   INTEGER NOT NULL,     -- sources.id
    dir_id      INTEGER NOT NULL,     -- dirs.id of the containing directory
    name        BLOB NOT NULL,
    snaps       INTEGER NOT NULL,     -- first_snap | last_snap << 32
    size        INTEGER NOT NULL,     -- file bytes; symlink target length; 0 for directories
    mtime_ns    INTEGER NOT NULL,
    ctime_off   INTEGER,              -- st_ctime_ns - mtime_ns; NULL: not known (rows from before schema 3)
    bits        INTEGER NOT NULL,     -- mode, owner and xattrs, packed (above)
    content_off INTEGER,              -- files: content_id - id; NULL until hashed
    link        BLOB,                 -- symlinks: the target, as bytes; files with more than one hard
                                      -- link: st_ino (links of one source share it: one content, one
                                      -- inode in the mount)
    first_snap  INTEGER GENERATED ALWAYS AS (snaps & 0xFFFFFFFF) VIRTUAL,
    last_snap   INTEGER GENERATED ALWAYS AS (nullif(snaps >> 32, 0)) VIRTUAL,  -- NULL: open (present in the latest scan)
    kind        TEXT GENERATED ALWAYS AS (CASE (bits >> 12) & 3 WHEN 0 THEN 'f' WHEN 1 THEN 'd' WHEN 2 THEN 'l' END) VIRTUAL,
    mode        INTEGER GENERATED ALWAYS AS ((bits & 0xFFF) | (CASE (bits >> 12) & 3 WHEN 0 THEN 0x8000 WHEN 1 THEN 0x4000
                                             ELSE 0xA000 END)) VIRTUAL,  -- st_mode: type and permission bits
    owner       INTEGER GENERATED ALWAYS AS (nullif((bits >> 14) & 0xFFFFF, 0)) VIRTUAL,  -- owners.id; NULL: not known
    xattrs      INTEGER GENERATED ALWAYS AS (nullif(bits >> 34, 0)) VIRTUAL,  -- xattr_sets.id; NULL: none
    content_id  INTEGER GENERATED ALWAYS AS (id + content_off) VIRTUAL,  -- files: contents.id; NULL until hashed
    target      BLOB GENERATED ALWAYS AS (CASE WHEN (bits >> 12) & 3 = 2 THEN link END) VIRTUAL,
    ino         INTEGER GENERATED ALWAYS AS (CASE WHEN (bits >> 12) & 3 = 0 THEN link END) VIRTUAL
);
-- Lookup by (directory, name) and listings in name order (the mount, scans, restore).
CREATE INDEX entries_by_dir ON entries(dir_id, name);
-- The names of a content other than the entry whose id it has: `entryrows.BY_CONTENT` asks both.
CREATE INDEX entries_by_content ON entries(content_id) WHERE content_id != id;
-- Files still to hash (small: only rows of a running or interrupted scan).
CREATE INDEX entries_unhashed ON entries(first_snap) WHERE content_id IS NULL AND mode & 0xF000 = 0x8000;
-- Hard links (few rows).
CREATE INDEX entries_by_ino ON entries(source_id, ino) WHERE ino IS NOT NULL;

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
    verified_ns    INTEGER,               -- when the read-back matched image_sha256
    -- error correction (schema 2): capacity_bytes is then the room for the image before its ECC
    medium_bytes   INTEGER,               -- the medium's size (NULL: capacity_bytes, no ECC planned)
    ecc_roots      INTEGER,               -- dvdisaster Reed-Solomon roots added after writing (NULL: none)
    location       TEXT,                  -- (schema 5) where a person keeps it when it is out of the
                                          -- changer (`robot export --location`) such as "shelf 3"
    -- (schema 6) the error correction's format: 'RS03' (an ECC file behind the file system) or
    -- 'RS02' (an augmented image; the discs planned before schema 6)
    ecc_format     TEXT
);

-- Copies (schema 5): the second, third, ... disc burned from the same image, one set per copy
-- number (copy 0, set A, is the discs row itself; copy 1 is set B, ...). `plan_iso --copies N`
-- adds the missing rows; `robot burn --copy K` burns them (odarchive/copies.py).
CREATE TABLE disc_copies (
    disc_id     INTEGER NOT NULL,
    copy        INTEGER NOT NULL CHECK (copy >= 1),
    state       TEXT NOT NULL DEFAULT 'planned' CHECK (state IN ('planned', 'verified')),
    slot        INTEGER,                  -- changer storage slot (NULL: not in the changer)
    location    TEXT,                     -- a person's place for it when it is out ("off-site box 2")
    burn_drive  INTEGER,
    burned_ns   INTEGER,
    verified_ns INTEGER,
    PRIMARY KEY (disc_id, copy)
) WITHOUT ROWID;

-- Health history (schema 5): one row per read-back of a burned disc (`odarchive scrub`).
CREATE TABLE disc_health (
    disc_id            INTEGER NOT NULL,
    copy               INTEGER NOT NULL,  -- 0: the discs row, 1..: disc_copies
    at_ns              INTEGER NOT NULL,
    result             TEXT NOT NULL CHECK (result IN ('ok', 'corrected', 'failed', 'unreadable')),
    corrected_sectors  INTEGER NOT NULL DEFAULT 0,
    unreadable_sectors INTEGER NOT NULL DEFAULT 0,
    read_bytes_per_s   REAL,
    detail             TEXT
);
CREATE INDEX disc_health_by_disc ON disc_health(disc_id, copy, at_ns);

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

-- Further archived names of a content placed whole on a disc (dedup): the disc lists the
-- content under each of them too, in all three trees, pointing at its one copy (schema 4).
CREATE TABLE disc_names (
    disc_id    INTEGER NOT NULL,
    raw_path   BLOB NOT NULL,             -- archived path (root/dir/name) of the other file
    content_id INTEGER NOT NULL,
    mtime_ns   INTEGER NOT NULL,
    mode       INTEGER NOT NULL,
    PRIMARY KEY (disc_id, raw_path)
) WITHOUT ROWID;

-- Where a placement's bytes lie inside the disc image (as the image writer laid them out):
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
