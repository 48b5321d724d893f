"""The `Catalogue` object: a connection, transactions, and the small queries everyone shares."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from odarchive.catalogue.db import open_catalogue


@dataclass(frozen=True)
class Source:
    id: int
    root_name: bytes
    path: bytes
    root_dir: int


@dataclass(frozen=True)
class Snapshot:
    id: int
    source_id: int
    started_ns: int
    finished_ns: int | None
    state: str
    phase: str


@dataclass(frozen=True)
class EntryRow:
    id: int
    source_id: int
    dir_id: int
    name: bytes
    kind: str  # 'f' file, 'd' directory, 'l' symlink
    first_snap: int
    last_snap: int
    size: int
    mtime_ns: int
    mode: int
    ino: int | None
    content_id: int | None
    target: bytes | None
    ctime_off: int | None = None  # st_ctime_ns - mtime_ns (None: not known)
    owner: int | None = None  # owners.id
    xattrs: int | None = None  # xattr_sets.id
    # `ino` is st_ino only for files with several hard links (None otherwise)


def valid_in(snap: str = ":snap") -> str:
    """SQL condition on `entries`: the row exists in snapshot `snap` (an SQL parameter or value).

    Open rows (`last_snap` NULL) are still present in their source's latest scan. Whole-snapshot
    queries must also filter on `source_id`; queries by directory node are scoped already.
    """
    return f"first_snap <= {snap} AND (last_snap IS NULL OR last_snap >= {snap})"


ENTRY_COLUMNS = (
    "id, source_id, dir_id, name, kind, first_snap, last_snap, size, mtime_ns, mode, ino, content_id, target,"
    " ctime_off, owner, xattrs"
)


class Catalogue:
    """One open catalogue (one SQLite connection; use from one thread at a time)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    @classmethod
    def open(
        cls, path: Path, *, create: bool = False, readonly: bool = False, check_same_thread: bool = True
    ) -> Catalogue:
        return cls(open_catalogue(path, create=create, readonly=readonly, check_same_thread=check_same_thread), path)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Catalogue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE .. COMMIT, rolled back on any exception (Ctrl-C included)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def set_cache_kib(self, kib: int) -> None:
        """Bound this connection's page cache to `kib` KiB."""
        self.conn.execute(f"PRAGMA cache_size=-{int(kib)}")

    def data_version(self) -> int:
        """A number that changes whenever another connection commits (SQLite's data_version):
        cheap to poll."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    # ---- meta ----
    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Change a setting of the catalogue (`meta`): the archive id a rebuild reads from its
        discs, or the chunk size of a catalogue that has no chunk hashes yet."""
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    @property
    def chunk_size(self) -> int:
        return int(self.meta("chunk_size") or 16 * 1024 * 1024)

    # ---- sources and snapshots ----
    def sources(self) -> list[Source]:
        return [
            Source(*r)
            for r in self.conn.execute("SELECT id, root_name, path, root_dir FROM sources ORDER BY root_name")
        ]

    def source_by_name(self, root_name: bytes) -> Source | None:
        r = self.conn.execute(
            "SELECT id, root_name, path, root_dir FROM sources WHERE root_name=?", (root_name,)
        ).fetchone()
        return Source(*r) if r else None

    def source(self, source_id: int) -> Source:
        return Source(
            *self.conn.execute("SELECT id, root_name, path, root_dir FROM sources WHERE id=?", (source_id,)).fetchone()
        )

    def snapshots(self, source_id: int | None = None) -> list[Snapshot]:
        sql = "SELECT id, source_id, started_ns, finished_ns, state, phase FROM snapshots"
        args: tuple[int, ...] = ()
        if source_id is not None:
            sql += " WHERE source_id=?"
            args = (source_id,)
        return [Snapshot(*r) for r in self.conn.execute(sql + " ORDER BY id", args)]

    def snapshot(self, snapshot_id: int) -> Snapshot | None:
        r = self.conn.execute(
            "SELECT id, source_id, started_ns, finished_ns, state, phase FROM snapshots WHERE id=?", (snapshot_id,)
        ).fetchone()
        return Snapshot(*r) if r else None

    def latest_snapshot(self, source_id: int, *, complete: bool = True) -> Snapshot | None:
        cond = " AND state='complete'" if complete else ""
        r = self.conn.execute(
            "SELECT id, source_id, started_ns, finished_ns, state, phase FROM snapshots"
            f" WHERE source_id=?{cond} ORDER BY id DESC LIMIT 1",
            (source_id,),
        ).fetchone()
        return Snapshot(*r) if r else None

    def latest_snapshots(self) -> list[tuple[Source, Snapshot]]:
        """The latest complete snapshot of every source that has one, by root name."""
        out = []
        for src in self.sources():
            snap = self.latest_snapshot(src.id)
            if snap is not None:
                out.append((src, snap))
        return out

    # ---- contents ----
    def content(self, content_id: int) -> tuple[bytes, int]:
        """(sha256, size) of a content."""
        from odarchive.catalogue import contents

        return contents.get(self.conn, content_id)
