"""Walk phase of a scan: bring the source's open entries up to date with the tree on disk.

Walks depth first with `os.scandir` on bytes paths (names are never decoded), never follows
symlinks, never opens anything but directories. An entry still present in the latest scan is
*open* (`last_snap` NULL). For each directory the walk compares what is on disk with the open
rows of that directory node:
  - unchanged entries cost nothing (no write at all: a re-scan of an unchanged tree of ten
    million files writes nothing but its snapshot row);
  - new or changed entries close the old row (`last_snap` = the previous snapshot) and get a
    new open row; files without a known content are hashed later by `odarchive.scan.hasher`;
  - entries gone from disk (or now excluded, or unreadable) are closed, with everything below
    them when they were directories.
Rows are written per directory and committed in batches, so a walk interrupted at any point
(Ctrl-C, kill -9) is continued by walking again: rows already opened by this snapshot are
recognised as unchanged.

Memory: the stack of directories still to visit, plus one directory's rows at a time.
"""

from __future__ import annotations

import fnmatch
import os
import stat
import time
from dataclasses import dataclass
from typing import NamedTuple

from odarchive.catalogue import Catalogue
from odarchive.progress import Reporter

BATCH_ROWS = 20000
BATCH_SECONDS = 2.0

_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "FIFO (named pipe)"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)

_INSERT = (
    "INSERT INTO entries (source_id, dir_id, name, kind, first_snap, last_snap, size, mtime_ns, mode, ino,"
    " content_id, target) VALUES (?,?,?,?,?,NULL,?,?,?,?,?,?)"
)


@dataclass(frozen=True)
class WalkOptions:
    excludes: tuple[str, ...] = ()
    rehash: bool = False  # files get new rows without content, so every file is hashed again


@dataclass
class WalkCounts:
    entries: int = 0
    unchanged: int = 0
    to_hash: int = 0
    skipped: int = 0
    closed: int = 0


class _Open(NamedTuple):
    """An open row of the catalogue, as read for comparison."""
    id: int
    kind: str
    size: int
    mtime_ns: int
    mode: int
    ino: int | None
    target: bytes | None
    content_id: int | None
    first_snap: int


class Walker:
    """Walks one source into snapshot `snap`; `prev` is its last complete snapshot (or None)."""

    def __init__(self, cat: Catalogue, source_id: int, snap: int, prev: int | None, options: WalkOptions,
                 reporter: Reporter) -> None:
        self.cat = cat
        self.source_id = source_id
        self.snap = snap
        self.prev = prev
        self.options = options
        self.reporter = reporter
        self.counts = WalkCounts()
        self._pending = 0
        self._last_commit = time.monotonic()

    def walk(self, source_path: bytes, root_name: bytes, root_dir: int) -> WalkCounts:
        """Walk `source_path` (archived as `root_name`, directory node `root_dir`)."""
        conn = self.cat.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            root = self._open_rows(0, root_name).get(root_name)
            self._write(0, [(root_name, _stat_of(os.stat(source_path), None))], {root_name: root} if root else {})
            stack: list[tuple[int, bytes, bytes]] = [(root_dir, source_path, b"")]
            while stack:
                node, abspath, relpath = stack.pop()
                stack.extend(reversed(self._walk_dir(node, abspath, relpath)))
                self._maybe_commit()
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("COMMIT")  # keep what was walked: the next run continues from it
            raise
        return self.counts

    # ---- one directory ----
    def _walk_dir(self, node: int, abspath: bytes, relpath: bytes) -> list[tuple[int, bytes, bytes]]:
        old = self._open_rows(node)
        try:
            it = os.scandir(abspath)
        except OSError as e:
            # The directory's own entry is recorded; what is inside cannot be listed now.
            self._skip(node, b".", f"cannot list directory: {e.strerror}", abspath)
            self._close_missing(node, old, set())
            return []
        found: list[tuple[bytes, _Stat]] = []
        with it:
            for de in it:
                name = de.name
                if self.options.excludes and self._excluded(name, relpath + b"/" + name if relpath else name):
                    continue
                try:
                    st = de.stat(follow_symlinks=False)
                    target = os.readlink(de.path) if stat.S_ISLNK(st.st_mode) else None
                except FileNotFoundError:
                    self._skip(node, name, "vanished during the scan", de.path)
                    continue
                except OSError as e:
                    self._skip(node, name, f"cannot stat: {e.strerror}", de.path)
                    continue
                special = _special_kind(st.st_mode)
                if special:
                    self._skip(node, name, f"{special}: not archived", de.path)
                    continue
                found.append((name, _stat_of(st, target)))
        self._write(node, found, old)
        self._close_missing(node, old, {name for name, _ in found})
        subdirs = [(name, info) for name, info in found if info.kind == "d"]
        return [(self._dir_node(node, name), abspath + b"/" + name, relpath + b"/" + name if relpath else name)
                for name, _ in subdirs]

    def _excluded(self, name: bytes, rel: bytes) -> bool:
        n, r = os.fsdecode(name), os.fsdecode(rel)
        return any(fnmatch.fnmatchcase(n, g) or fnmatch.fnmatchcase(r, g) for g in self.options.excludes)

    def _open_rows(self, node: int, name: bytes | None = None) -> dict[bytes, _Open]:
        sql = ("SELECT name, id, kind, size, mtime_ns, mode, ino, target, content_id, first_snap FROM entries"
               " WHERE dir_id=? AND last_snap IS NULL")
        args: tuple = (node,)
        if name is not None:
            sql += " AND name=?"
            args += (name,)
        return {r[0]: _Open(*r[1:]) for r in self.cat.conn.execute(sql, args)}

    # ---- rows ----
    def _write(self, node: int, found: list[tuple[bytes, "_Stat"]], old: dict[bytes, _Open]) -> None:
        inserts = []
        rehash = self.options.rehash
        for name, info in found:
            prior = old.get(name)
            if prior is not None and prior.kind == info.kind and (
                prior.size, prior.mtime_ns, prior.mode, prior.ino, prior.target
            ) == (info.size, info.mtime_ns, info.mode, info.ino, info.target) and (
                info.kind != "f" or (prior.content_id is not None and not (rehash and prior.first_snap < self.snap))
                or prior.first_snap == self.snap
            ):
                self.counts.unchanged += 1
                continue
            content = None
            if prior is not None:
                if (info.kind == "f" and prior.kind == "f" and not rehash and prior.content_id is not None
                        and (prior.size, prior.mtime_ns, prior.ino) == (info.size, info.mtime_ns, info.ino)):
                    content = prior.content_id  # only the mode changed
                self._close(node, name, prior, subtree=prior.kind == "d" and info.kind != "d")
            if info.kind == "f" and content is None:
                self.counts.to_hash += 1
            inserts.append((self.source_id, node, name, info.kind, self.snap, info.size, info.mtime_ns, info.mode,
                            info.ino, content, info.target))
        if inserts:
            self.cat.conn.executemany(_INSERT, inserts)
        self.counts.entries += len(found)
        self._pending += len(inserts) + 1
        self.reporter.advance(items=len(found))

    def _close_missing(self, node: int, old: dict[bytes, _Open], present: set[bytes]) -> None:
        for name, prior in old.items():
            if name not in present:
                self._close(node, name, prior, subtree=prior.kind == "d")

    def _close(self, node: int, name: bytes, prior: _Open, subtree: bool) -> None:
        """The open row `prior` is no longer current: end it at the previous snapshot."""
        conn = self.cat.conn
        self.counts.closed += 1
        if prior.first_snap == self.snap or self.prev is None:
            conn.execute("DELETE FROM entries WHERE id=?", (prior.id,))
        else:
            conn.execute("UPDATE entries SET last_snap=? WHERE id=?", (self.prev, prior.id))
        if subtree:
            child = conn.execute("SELECT id FROM dirs WHERE parent_id=? AND name=?", (node, name)).fetchone()
            if child:
                self._close_subtree(child[0])

    def _close_subtree(self, top: int) -> None:
        subtree = ("WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL SELECT d.id FROM dirs d JOIN sub ON d.parent_id = sub.id)"
                   " {} WHERE dir_id IN sub AND last_snap IS NULL")
        conn = self.cat.conn
        cur = conn.execute(subtree.format("DELETE FROM entries") + " AND first_snap=?", (top, self.snap))
        self.counts.closed += cur.rowcount
        if self.prev is not None:
            cur = conn.execute(subtree.format("UPDATE entries SET last_snap=?"), (self.prev, top))
            self.counts.closed += cur.rowcount

    def _dir_node(self, parent: int, name: bytes) -> int:
        conn = self.cat.conn
        row = conn.execute("SELECT id FROM dirs WHERE parent_id=? AND name=?", (parent, name)).fetchone()
        if row:
            return row[0]
        return conn.execute("INSERT INTO dirs (parent_id, name) VALUES (?, ?)", (parent, name)).lastrowid

    def _skip(self, node: int, name: bytes, reason: str, path: bytes) -> None:
        self.counts.skipped += 1
        self.cat.conn.execute(
            "INSERT OR REPLACE INTO skipped (snapshot_id, dir_id, name, reason) VALUES (?,?,?,?)",
            (self.snap, node, name, reason),
        )
        self.reporter.event("skipped", path=os.fsdecode(path), reason=reason)

    def _maybe_commit(self) -> None:
        if self._pending >= BATCH_ROWS or time.monotonic() - self._last_commit >= BATCH_SECONDS:
            self.cat.conn.execute("COMMIT")
            self.cat.conn.execute("BEGIN IMMEDIATE")
            self._pending = 0
            self._last_commit = time.monotonic()


class _Stat(NamedTuple):
    kind: str
    size: int
    mtime_ns: int
    mode: int
    ino: int
    target: bytes | None


def _stat_of(st: os.stat_result, target: bytes | None) -> _Stat:
    if stat.S_ISDIR(st.st_mode):
        return _Stat("d", 0, st.st_mtime_ns, st.st_mode, st.st_ino, None)
    if stat.S_ISLNK(st.st_mode):
        return _Stat("l", len(target or b""), st.st_mtime_ns, st.st_mode, st.st_ino, target)
    return _Stat("f", st.st_size, st.st_mtime_ns, st.st_mode, st.st_ino, None)


def _special_kind(mode: int) -> str | None:
    for test, label in _SPECIAL_KINDS:
        if test(mode):
            return label
    return None
