"""Walk phase of a scan: record every entry of a source tree in the running snapshot.

Walks depth first with `os.scandir` on bytes paths (names are never decoded), never follows
symlinks, never opens anything but directories. For each entry it compares with the row of
the previous snapshot (same directory node and name): unchanged entries only move their
`last_snap` forward; new or changed ones get a new row, files without a content (hashed later
by `odarchive.scan.hasher`). Rows are committed in batches, so a walk interrupted at any point
(Ctrl-C, kill -9) is continued by walking again: rows already carrying this snapshot are
recognised and left alone.

Memory: the stack of directories still to visit, plus one directory's previous rows at a time.
"""

from __future__ import annotations

import fnmatch
import os
import stat
import time
from dataclasses import dataclass
from odarchive.catalogue import Catalogue
from odarchive.progress import Reporter

BATCH_ROWS = 5000
BATCH_SECONDS = 2.0

_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "FIFO (named pipe)"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)


@dataclass(frozen=True)
class WalkOptions:
    excludes: tuple[str, ...] = ()
    rehash: bool = False  # files get new rows without content, so every file is hashed again


@dataclass
class WalkCounts:
    entries: int = 0
    files: int = 0
    unchanged: int = 0
    to_hash: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class _Stat:
    kind: str
    size: int
    mtime_ns: int
    mode: int
    ino: int
    target: bytes | None


class Walker:
    """Walks one source into snapshot `snap` (continuing `prev`, the last complete snapshot)."""

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

    # ---- public ----
    def walk(self, source_path: bytes, root_name: bytes, root_dir: int) -> WalkCounts:
        """Walk `source_path` (archived as `root_name`, directory node `root_dir`)."""
        conn = self.cat.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            root_stat = os.stat(source_path)
            self._record(0, self._previous_rows(0), root_name, _stat_of(root_stat, None))
            stack: list[tuple[int, bytes, bytes]] = [(root_dir, source_path, b"")]
            while stack:
                node, abspath, relpath = stack.pop()
                subdirs = self._walk_dir(node, abspath, relpath)
                stack.extend(reversed(subdirs))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("COMMIT")  # keep what was walked: the next run continues from it
            raise
        return self.counts

    # ---- one directory ----
    def _walk_dir(self, node: int, abspath: bytes, relpath: bytes) -> list[tuple[int, bytes, bytes]]:
        try:
            it = os.scandir(abspath)
        except OSError as e:
            # The directory's own entry is already recorded; its contents cannot be listed.
            self._skip(node, b".", f"cannot list directory: {e.strerror}", abspath)
            return []
        previous = self._previous_rows(node)
        subdirs: list[tuple[int, bytes, bytes]] = []
        with it:
            for de in it:
                name = de.name
                rel = relpath + b"/" + name if relpath else name
                if self._excluded(name, rel):
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
                info = _stat_of(st, target)
                self._record(node, previous, name, info)
                if info.kind == "d":
                    subdirs.append((self._dir_node(node, name), de.path, rel))
        return subdirs

    def _excluded(self, name: bytes, rel: bytes) -> bool:
        if not self.options.excludes:
            return False
        n, r = os.fsdecode(name), os.fsdecode(rel)
        return any(fnmatch.fnmatchcase(n, g) or fnmatch.fnmatchcase(r, g) for g in self.options.excludes)

    def _previous_rows(self, node: int) -> dict[bytes, tuple]:
        """This directory's rows of the previous and of this snapshot, by name."""
        rows: dict[bytes, tuple] = {}
        snaps = (self.snap,) if self.prev is None else (self.prev, self.snap)
        marks = ",".join("?" * len(snaps))
        for row in self.cat.conn.execute(
            "SELECT name, id, kind, size, mtime_ns, mode, ino, target, content_id, first_snap, last_snap"
            f" FROM entries WHERE dir_id=? AND last_snap IN ({marks})",
            (node, *snaps),
        ):
            # a row already in this snapshot (resumed walk) wins over the previous one
            if row[0] not in rows or row[10] == self.snap:
                rows[row[0]] = row
        return rows

    # ---- rows ----
    def _record(self, node: int, previous: dict[bytes, tuple], name: bytes, info: _Stat) -> None:
        conn = self.cat.conn
        old = previous.get(name)
        self.counts.entries += 1
        if info.kind == "f":
            self.counts.files += 1
        same_meta = old is not None and old[2] == info.kind and old[3:8] == (
            info.size, info.mtime_ns, info.mode, info.ino, info.target)
        keeps_content = (
            old is not None and old[2] == info.kind and old[3] == info.size and old[4] == info.mtime_ns
            and old[6] == info.ino and (info.kind != "f" or (old[8] is not None and not self.options.rehash))
        )
        if old is not None and old[10] == self.snap:
            if same_meta:
                return  # already recorded by an interrupted walk of this snapshot
            self._retire(old)
            old = None if old[9] == self.snap else old
        if old is not None and same_meta and keeps_content:
            conn.execute("UPDATE entries SET last_snap=? WHERE id=?", (self.snap, old[1]))
            self.counts.unchanged += 1
        else:
            content = old[8] if keeps_content and old is not None else None
            conn.execute(
                "INSERT INTO entries (source_id, dir_id, name, kind, first_snap, last_snap, size, mtime_ns, mode,"
                " ino, content_id, target) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (self.source_id, node, name, info.kind, self.snap, self.snap, info.size, info.mtime_ns, info.mode, info.ino,
                 content, info.target),
            )
            if info.kind == "f" and content is None:
                self.counts.to_hash += 1
        self.reporter.advance(items=1)
        self._tick()

    def _retire(self, old: tuple) -> None:
        """An entry recorded earlier in this (resumed) snapshot has changed since."""
        if old[9] == self.snap:
            self.cat.conn.execute("DELETE FROM entries WHERE id=?", (old[1],))
        else:
            self.cat.conn.execute("UPDATE entries SET last_snap=? WHERE id=?", (self.prev, old[1]))

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
        self._tick()

    def _tick(self) -> None:
        self._pending += 1
        if self._pending >= BATCH_ROWS or time.monotonic() - self._last_commit >= BATCH_SECONDS:
            self.cat.conn.execute("COMMIT")
            self.cat.conn.execute("BEGIN IMMEDIATE")
            self._pending = 0
            self._last_commit = time.monotonic()


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
