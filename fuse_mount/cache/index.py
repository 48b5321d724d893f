"""The cache's SQLite index: every query the cache makes, and nothing else.

Not thread-safe by itself: `Cache` calls it only while holding `Cache._db`, except
`memoised()`, which reads the memo of content maps under its own leaf lock so that cached
reads need not wait for an eviction that holds `Cache._db`. The memo is exact for this
process's own changes; another process's evictions are noticed at the next flush (about a
second): until then a read of an evicted chunk finds its file gone and fetches it again. Another process
(the command line) may use the same file at the same time; SQLite's WAL and a busy timeout
serialise the writers, and `totals` (kept by triggers) is exact for every reader.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from fuse_mount.cache.pids import pid_alive
from fuse_mount.cache.policies import Policy, policy_sql

SCHEMA_VERSION = 4
"""1 -> 2: block hashes in their own table, a contents count in totals. 3: a removals count.
4: head bytes in totals. An index of another
version is not migrated: the cache is rebuilt empty (it is only a copy of the discs)."""
HEAD = -1

COUNTERS = (
    "hits",
    "misses",
    "bytes_served",
    "evictions",
    "bytes_evicted",
    "disc_loads",
    "waits",
    "wait_total_s",
    "wait_max_s",
    "corrupt_drops",
    "full_errors",
)


@dataclass(frozen=True)
class ChunkRow:
    rowid: int
    key: str
    idx: int
    length: int
    hashes: bytes = b""  # only filled in by content_map (what reads need)


@dataclass(frozen=True)
class ContentMap:
    """A content's size and its present chunks by index (HEAD = -1 for the head)."""

    size: int
    rows: dict[int, ChunkRow]


MAP_CAPACITY = 4096
"""Contents whose chunk map is memoised: a cached read then costs no SQL at all."""


@dataclass(frozen=True)
class Totals:
    bytes: int
    chunks: int
    heads: int
    head_bytes: int
    contents: int
    removals: int


class StaleIndex(Exception):
    """The index was written by another version of the cache; it is rebuilt empty."""


class Index:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        # Memo of content_map(), kept exact for this process's own changes. Another process's
        # eviction shows up as a missing file (store.Gone), which drops the row and this entry.
        self._maps: OrderedDict[str, ContentMap | None] = OrderedDict()
        self._maps_lock = threading.Lock()
        self._removals_seen = -1

    @classmethod
    def open(cls, path: Path) -> Index:
        conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # a lost commit only loses cache, never corrupts
        # A small WAL, truncated after each checkpoint: the index must still commit on a nearly
        # full cache disk (a 2 MiB tmpfs test filled the default 4 MiB WAL's disk).
        conn.execute("PRAGMA wal_autocheckpoint=128")
        conn.execute("PRAGMA journal_size_limit=524288")
        index = cls(conn)
        with index.transaction():
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name='meta'").fetchone():
                for statement in _statements(resources.files("fuse_mount.cache").joinpath("schema.sql").read_text()):
                    conn.execute(statement)
                conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            version = int(index.meta("schema_version") or 0)
        if version != SCHEMA_VERSION:
            conn.close()
            raise StaleIndex(f"cache index schema {version}, this odarchive uses {SCHEMA_VERSION}")
        return index

    def close(self) -> None:
        self.conn.close()

    def transaction(self) -> _Tx:
        return _Tx(self.conn)

    # ---- meta ----
    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # ---- contents and chunks ----
    def memoised(self, key: str) -> tuple[bool, ContentMap | None]:
        """(True, map or None) if the content's map is memoised, else (False, None)."""
        with self._maps_lock:
            if key not in self._maps:
                return False, None
            self._maps.move_to_end(key)
            return True, self._maps[key]

    def content_map(self, key: str) -> ContentMap | None:
        """The content's size and present chunks, or None if the cache does not know it."""
        known, found = self.memoised(key)
        if known:
            return found
        row = self.conn.execute("SELECT size FROM contents WHERE key=?", (key,)).fetchone()
        if row is not None:
            rows = self.conn.execute(
                "SELECT c.rowid, c.key, c.idx, c.length, b.hashes FROM chunks c JOIN blocks b ON b.chunk=c.rowid"
                " WHERE c.key=?",
                (key,),
            )
            found = ContentMap(row[0], {r[2]: ChunkRow(*r) for r in rows})
        with self._maps_lock:
            self._maps[key] = found
            if len(self._maps) > MAP_CAPACITY:
                self._maps.popitem(last=False)
        return found

    def notice_other_processes(self) -> None:
        """Drop the whole memo if chunks were removed since the last look (by another process,
        e.g. `odarchive cache evict`, or by this one), so that maps do not stay stale."""
        removals = self.totals().removals
        if removals != self._removals_seen:
            self.forget()
            self._removals_seen = removals

    def forget(self, keys: Iterable[str] | None = None) -> None:
        """Drop memoised maps (all of them if keys is None)."""
        with self._maps_lock:
            if keys is None:
                self._maps.clear()
            for key in keys or ():
                self._maps.pop(key, None)

    def add_chunk(self, key: str, size: int, idx: int, length: int, hashes: bytes, now_s: float) -> int | None:
        """Insert a chunk row (and its content); None if that chunk is already recorded."""
        self.forget([key])
        self.conn.execute("INSERT OR IGNORE INTO contents (key, size) VALUES (?, ?)", (key, size))
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO chunks (key, idx, length, stored_s, last_access_s) VALUES (?,?,?,?,?)",
            (key, idx, length, now_s, now_s),
        )
        if not cur.rowcount:
            return None
        self.conn.execute("INSERT INTO blocks VALUES (?, ?)", (cur.lastrowid, hashes))
        return cur.lastrowid

    def remove_chunks(self, rows: Iterable[ChunkRow]) -> list[ChunkRow]:
        """Delete chunk rows (by rowid, so a newer row for the same chunk stays) and contents
        left with no chunk and no pin. Returns the rows that were still there."""
        rows = list(rows)
        self.forget({r.key for r in rows})
        removed = [r for r in rows if self.conn.execute("DELETE FROM chunks WHERE rowid=?", (r.rowid,)).rowcount]
        self.conn.executemany(
            "DELETE FROM contents WHERE key=? AND pinned=0 AND NOT EXISTS (SELECT 1 FROM chunks WHERE key=?)",
            [(k, k) for k in {r.key for r in removed}],
        )
        return removed

    def all_chunks(self, key: str | None = None) -> list[ChunkRow]:
        sql = "SELECT rowid, key, idx, length FROM chunks"
        args: tuple[str, ...] = ()
        if key is not None:
            sql, args = sql + " WHERE key=?", (key,)
        return [ChunkRow(*r) for r in self.conn.execute(sql, args)]

    def chunks_after(self, rowid: int, limit: int) -> list[ChunkRow]:
        """Up to `limit` chunks (with their block hashes) with a rowid above `rowid`, in order."""
        return [
            ChunkRow(*r)
            for r in self.conn.execute(
                "SELECT c.rowid, c.key, c.idx, c.length, b.hashes FROM chunks c JOIN blocks b ON b.chunk=c.rowid"
                " WHERE c.rowid > ? ORDER BY c.rowid LIMIT ?",
                (rowid, limit),
            )
        ]

    def touch(self, updates: Sequence[tuple[float, int, str, int]]) -> None:
        """(last_access_s, hits to add, key, idx) for chunks read since the last flush."""
        self.conn.executemany(
            "UPDATE chunks SET last_access_s=max(last_access_s, ?), hits=hits+? WHERE key=? AND idx=?", updates
        )

    # ---- eviction candidates (never pinned, never open by a live process) ----
    # Pinned and open keys are few: excluding them with NOT IN (built once per query) costs
    # 0.08 s over 100,000 chunks where a per-row join on contents cost 0.55 s (measured).
    _EVICTABLE = (
        "FROM chunks c WHERE c.key NOT IN (SELECT key FROM contents WHERE pinned=1)"
        " AND c.key NOT IN (SELECT key FROM handles)"
    )

    def candidates(self, policy: Policy, now_s: float, heads: bool, limit: int) -> list[ChunkRow]:
        """Up to `limit` evictable chunks (or heads) in the policy's order, highest score
        first; ties go least recently read first, then oldest stored first (as replay.py
        does). A LIMIT keeps SQLite's sorter small: over 100,000 chunks the first 64 of the
        `size` order take 0.15 s, all of them 0.4 s (measured)."""
        kind = "c.idx < 0" if heads else "c.idx >= 0"
        order = policy_sql(policy)
        if order is None:
            self.conn.create_function("policy_score", 4, policy, deterministic=True)
            order = "policy_score(c.length, c.last_access_s, c.hits, :now) DESC, c.last_access_s, c.rowid"
        return [
            ChunkRow(*r)
            for r in self.conn.execute(
                f"SELECT c.rowid, c.key, c.idx, c.length {self._EVICTABLE} AND {kind} ORDER BY {order} LIMIT :limit",
                {"now": now_s, "limit": limit},
            )
        ]

    def idle_since(self, cutoff_s: float) -> list[ChunkRow]:
        """Evictable chunks (not heads) last read before `cutoff_s`."""
        return [
            ChunkRow(*r)
            for r in self.conn.execute(
                f"SELECT c.rowid, c.key, c.idx, c.length {self._EVICTABLE} AND c.idx >= 0 AND c.last_access_s < ?",
                (cutoff_s,),
            )
        ]

    def evictable(self, key: str | None = None) -> list[ChunkRow]:
        sql = f"SELECT c.rowid, c.key, c.idx, c.length {self._EVICTABLE}"
        args: tuple[str, ...] = ()
        if key is not None:
            sql, args = sql + " AND c.key=?", (key,)
        return [ChunkRow(*r) for r in self.conn.execute(sql, args)]

    # ---- pins and handles ----
    def set_pinned(self, key: str, size: int | None, pinned: bool) -> None:
        self.forget([key])
        if size is not None:
            self.conn.execute("INSERT OR IGNORE INTO contents (key, size) VALUES (?, ?)", (key, size))
        self.conn.execute("UPDATE contents SET pinned=? WHERE key=?", (int(pinned), key))
        if not pinned:
            self.conn.execute(
                "DELETE FROM contents WHERE key=? AND NOT EXISTS (SELECT 1 FROM chunks WHERE key=?)", (key, key)
            )

    def is_pinned(self, key: str) -> bool:
        row = self.conn.execute("SELECT pinned FROM contents WHERE key=?", (key,)).fetchone()
        return bool(row and row[0])

    def add_handle(self, key: str, pid: int, delta: int) -> None:
        self.conn.execute(
            "INSERT INTO handles VALUES (?, ?, ?) ON CONFLICT (key, pid) DO UPDATE SET n=n+excluded.n",
            (key, pid, delta),
        )
        self.conn.execute("DELETE FROM handles WHERE key=? AND pid=? AND n<=0", (key, pid))

    def is_open(self, key: str) -> bool:
        return self.conn.execute("SELECT 1 FROM handles WHERE key=?", (key,)).fetchone() is not None

    def drop_dead_handles(self) -> None:
        for (pid,) in self.conn.execute("SELECT DISTINCT pid FROM handles").fetchall():
            if not pid_alive(pid):
                self.conn.execute("DELETE FROM handles WHERE pid=?", (pid,))

    # ---- counters and totals ----
    def add_counters(self, deltas: dict[str, float], wait_max_s: float) -> None:
        self.conn.executemany(
            "INSERT INTO counters VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value=value+excluded.value",
            list(deltas.items()),
        )
        self.conn.execute(
            "INSERT INTO counters VALUES ('wait_max_s', ?) ON CONFLICT (name) DO UPDATE SET value=max(value, excluded.value)",
            (wait_max_s,),
        )

    def counters(self) -> dict[str, float]:
        values = dict.fromkeys(COUNTERS, 0.0)
        values.update(dict(self.conn.execute("SELECT name, value FROM counters").fetchall()))
        return values

    def totals(self) -> Totals:
        return Totals(
            *self.conn.execute("SELECT bytes, chunks, heads, head_bytes, contents, removals FROM totals").fetchone()
        )

    def summary(self) -> tuple[int, int, int]:
        """(contents with data or a pin, pinned contents, open handles of live processes)."""
        contents = self.conn.execute("SELECT contents FROM totals").fetchone()[0]
        pinned = self.conn.execute("SELECT count(*) FROM contents WHERE pinned=1").fetchone()[0]
        handles = sum(n for pid, n in self.conn.execute("SELECT pid, n FROM handles") if pid_alive(pid))
        return contents, pinned, handles


class _Tx:
    """BEGIN IMMEDIATE .. COMMIT, rolled back on any exception."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")


def is_full(e: sqlite3.Error) -> bool:
    """Whether SQLite failed because the disk is full (SQLITE_FULL)."""
    return getattr(e, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


def _statements(script: str) -> list[str]:
    """Split the schema into statements (triggers contain ';' inside BEGIN..END)."""
    out, buf = [], ""
    for line in script.splitlines():
        if line.lstrip().startswith("--"):
            continue
        buf += line + "\n"
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    return out
