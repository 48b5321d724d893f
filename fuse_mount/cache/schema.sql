-- The cache index (<cache dir>/index.sqlite), schema version 2 (see index.SCHEMA_VERSION). WAL mode; one connection per
-- process, shared by its threads under Cache._db. Every byte on disk under data/ has a row in
-- `chunks`; `totals` is kept exact by triggers, so any process reads the fill without a scan.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL                 -- schema_version, chunk_bytes
) WITHOUT ROWID;

-- A content known to the cache: cached (some chunk or head present) and/or pinned.
CREATE TABLE contents (
    key    TEXT PRIMARY KEY,            -- SHA-256, lower-case hex
    size   INTEGER NOT NULL,
    pinned INTEGER NOT NULL DEFAULT 0   -- 1: never evicted (cache pin)
) WITHOUT ROWID;
CREATE INDEX contents_pinned ON contents(key) WHERE pinned = 1;

-- A cached chunk (idx >= 0) or head (idx = -1) of a content, stored in data/<key[:2]>/<key>.<idx>.
-- rowid is the chunk's generation: a reader drops a bad chunk only if the row it read is still there.
-- Kept narrow (block hashes live in `blocks`): eviction scans it, and with 512 bytes of hashes
-- per 16 MiB chunk inline a scan of 100,000 chunks took 0.15 s before any policy ran.
CREATE TABLE chunks (
    key           TEXT NOT NULL,
    idx           INTEGER NOT NULL,
    length        INTEGER NOT NULL,
    stored_s      REAL NOT NULL,        -- when it was written (seconds since the epoch)
    last_access_s REAL NOT NULL,        -- last read (flushed every few seconds)
    hits          INTEGER NOT NULL DEFAULT 0,
    UNIQUE (key, idx)
);
CREATE INDEX chunks_by_access ON chunks(last_access_s);

-- The SHA-256 of each 1 MiB block of a chunk's file, concatenated (verified on read).
CREATE TABLE blocks (
    chunk  INTEGER PRIMARY KEY,         -- chunks.rowid
    hashes BLOB NOT NULL
);

-- Open files by process: their contents are never evicted. Rows of dead processes are ignored
-- and removed when the cache is opened.
CREATE TABLE handles (
    key TEXT NOT NULL,
    pid INTEGER NOT NULL,
    n   INTEGER NOT NULL,
    PRIMARY KEY (key, pid)
) WITHOUT ROWID;

-- Persistent counters: hits, misses, bytes_served, evictions, bytes_evicted, disc_loads,
-- waits, wait_total_s, wait_max_s, corrupt_drops, full_errors.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE totals (
    id       INTEGER PRIMARY KEY CHECK (id = 0),
    bytes    INTEGER NOT NULL,
    chunks   INTEGER NOT NULL,
    heads    INTEGER NOT NULL,
    head_bytes INTEGER NOT NULL,       -- bytes of heads (their share is bounded: eviction.py)
    contents INTEGER NOT NULL,         -- rows of `contents`: cached or pinned
    removals INTEGER NOT NULL          -- chunks ever removed: other processes' memos notice it
);
INSERT INTO totals VALUES (0, 0, 0, 0, 0, 0, 0);

CREATE TRIGGER contents_added AFTER INSERT ON contents BEGIN
    UPDATE totals SET contents = contents + 1;
END;
CREATE TRIGGER contents_removed AFTER DELETE ON contents BEGIN
    UPDATE totals SET contents = contents - 1;
END;

CREATE TRIGGER chunks_added AFTER INSERT ON chunks BEGIN
    UPDATE totals SET bytes = bytes + NEW.length,
                      chunks = chunks + (NEW.idx >= 0), heads = heads + (NEW.idx < 0),
                      head_bytes = head_bytes + (NEW.idx < 0) * NEW.length;
END;
CREATE TRIGGER chunks_removed AFTER DELETE ON chunks BEGIN
    DELETE FROM blocks WHERE chunk = OLD.rowid;
    UPDATE totals SET bytes = bytes - OLD.length, removals = removals + 1,
                      chunks = chunks - (OLD.idx >= 0), heads = heads - (OLD.idx < 0),
                      head_bytes = head_bytes - (OLD.idx < 0) * OLD.length;
END;
