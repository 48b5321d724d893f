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
import hashlib
import os
import pickle
import stat
import time
from dataclasses import dataclass

from odarchive.catalogue import Catalogue
from odarchive.catalogue.versions import close_subtree
from odarchive.progress import Reporter

BATCH_ROWS = 20000
BATCH_SECONDS = 2.0

_REG, _DIR, _LNK = stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK
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
    skipped: int = 0


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
            old = self._open_rows(0, root_name)
            st = os.stat(source_path)
            meta = ("d", 0, st.st_mtime_ns, st.st_mode, st.st_ino, None)
            if root_name not in old or old[root_name][1:7] != meta:
                self._write(0, [(root_name, meta)], old)
            self.counts.entries += 1
            root_sig = conn.execute("SELECT sig FROM dirs WHERE id=?", (root_dir,)).fetchone()[0]
            stack: list[tuple] = [(root_dir, root_sig, source_path, b"")]
            while stack:
                stack.extend(reversed(self._walk_dir(*stack.pop())))
                self._maybe_commit()
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("COMMIT")  # keep what was walked: the next run continues from it
            raise
        return self.counts

    # ---- one directory ----
    def _walk_dir(self, node: int, sig: bytes | None, abspath: bytes, relpath: bytes) -> list[tuple]:
        """Bring one directory's open rows up to date; returns the subdirectories to visit.

        This runs once per entry of the tree, so it is written for speed. The listing (names and
        stat) is digested; when the digest equals the one stored for the directory node at the
        last walk, its rows are known to match and are not even read (see BENCHMARKS.md).
        """
        try:
            it = os.scandir(abspath)
        except OSError as e:
            # The directory's own entry is recorded; what is inside cannot be listed now.
            self._skip(node, b".", f"cannot list directory: {e.strerror}", abspath)
            self._close_missing(node, self._open_rows(node), set())
            self.cat.conn.execute("UPDATE dirs SET sig=NULL WHERE id=?", (node,))
            return []
        listing: list[tuple[bytes, tuple]] = []
        subdirs: list[bytes] = []
        excludes = self.options.excludes
        with it:
            for de in it:
                name = de.name
                if excludes and self._excluded(name, relpath + b"/" + name if relpath else name):
                    continue
                try:
                    st = de.stat(follow_symlinks=False)
                    mode = st.st_mode
                    fmt = mode & 0o170000
                    if fmt == _REG:
                        meta = ("f", st.st_size, st.st_mtime_ns, mode, st.st_ino, None)
                    elif fmt == _DIR:
                        meta = ("d", 0, st.st_mtime_ns, mode, st.st_ino, None)
                        subdirs.append(name)
                    elif fmt == _LNK:
                        target = os.readlink(de.path)
                        meta = ("l", len(target), st.st_mtime_ns, mode, st.st_ino, target)
                    else:
                        self._skip(node, name, f"{_special_kind(mode)}: not archived", de.path)
                        continue
                except FileNotFoundError:
                    self._skip(node, name, "vanished during the scan", de.path)
                    continue
                except OSError as e:
                    self._skip(node, name, f"cannot stat: {e.strerror}", de.path)
                    continue
                listing.append((name, meta))
        digest = hashlib.blake2b(pickle.dumps(listing, protocol=5), digest_size=16).digest()
        if digest == sig and not self.options.rehash:
            self.counts.unchanged += len(listing)
        else:
            self._compare(node, listing)
            self.cat.conn.execute("UPDATE dirs SET sig=? WHERE id=?", (digest, node))
        self.counts.entries += len(listing)
        self.reporter.advance(items=len(listing))
        children = self._child_dirs(node) if subdirs else {}
        out = []
        for name in subdirs:
            child_id, child_sig = children.get(name) or (self._new_dir(node, name), None)
            out.append((child_id, child_sig, abspath + b"/" + name, relpath + b"/" + name if relpath else name))
        return out

    def _compare(self, node: int, listing: list[tuple[bytes, tuple]]) -> None:
        """Row by row: new and changed entries get new rows, vanished ones are closed."""
        old = self._open_rows(node)
        snap, rehash = self.snap, self.options.rehash
        changed = []
        for name, meta in listing:
            prior = old.get(name)
            # prior: (name, kind, size, mtime_ns, mode, ino, target, id, content_id, first_snap)
            if prior is not None and prior[1:7] == meta and (
                meta[0] != "f" or prior[9] == snap or (prior[8] is not None and not rehash)
            ):
                self.counts.unchanged += 1
            else:
                changed.append((name, meta))
        self._write(node, changed, old)
        self._close_missing(node, old, {name for name, _ in listing})

    def _excluded(self, name: bytes, rel: bytes) -> bool:
        n, r = os.fsdecode(name), os.fsdecode(rel)
        return any(fnmatch.fnmatchcase(n, g) or fnmatch.fnmatchcase(r, g) for g in self.options.excludes)

    def _open_rows(self, node: int, name: bytes | None = None) -> dict[bytes, tuple]:
        """Open rows of a directory node by name: (name, kind, size, mtime_ns, mode, ino, target,
        id, content_id, first_snap)."""
        sql = ("SELECT name, kind, size, mtime_ns, mode, ino, target, id, content_id, first_snap FROM entries"
               " WHERE dir_id=? AND last_snap IS NULL")
        args: tuple = (node,)
        if name is not None:
            sql += " AND name=?"
            args += (name,)
        return {r[0]: r for r in self.cat.conn.execute(sql, args)}

    # ---- rows ----
    def _write(self, node: int, changed: list[tuple[bytes, tuple]], old: dict[bytes, tuple]) -> None:
        """New rows for new or changed entries; the rows they replace are closed."""
        inserts = []
        for name, meta in changed:
            kind = meta[0]
            prior = old.get(name)
            content = None
            if prior is not None:
                if (kind == "f" and prior[1] == "f" and not self.options.rehash and prior[8] is not None
                        and (prior[2], prior[3], prior[5]) == (meta[1], meta[2], meta[4])):
                    content = prior[8]  # only the mode changed
                self._close(node, name, prior, subtree=prior[1] == "d" and kind != "d")
            inserts.append((self.source_id, node, name, kind, self.snap, meta[1], meta[2], meta[3], meta[4],
                            content, meta[5]))
        if inserts:
            self.cat.conn.executemany(_INSERT, inserts)
        self._pending += len(inserts) + 1

    def _close_missing(self, node: int, old: dict[bytes, tuple], present: set[bytes]) -> None:
        for name, prior in old.items():
            if name not in present:
                self._close(node, name, prior, subtree=prior[1] == "d")

    def _close(self, node: int, name: bytes, prior: tuple, subtree: bool) -> None:
        """The open row `prior` is no longer current: end it at the previous snapshot."""
        conn = self.cat.conn
        if prior[9] == self.snap or self.prev is None:
            conn.execute("DELETE FROM entries WHERE id=?", (prior[7],))
        else:
            conn.execute("UPDATE entries SET last_snap=? WHERE id=?", (self.prev, prior[7]))
        if subtree:
            child = conn.execute("SELECT id FROM dirs WHERE parent_id=? AND name=?", (node, name)).fetchone()
            if child:
                close_subtree(conn, child[0], self.snap, self.prev)

    def _child_dirs(self, parent: int) -> dict[bytes, tuple[int, bytes | None]]:
        return {r[0]: (r[1], r[2]) for r in self.cat.conn.execute(
            "SELECT name, id, sig FROM dirs WHERE parent_id=?", (parent,))}

    def _new_dir(self, parent: int, name: bytes) -> int:
        return self.cat.conn.execute("INSERT INTO dirs (parent_id, name) VALUES (?, ?)", (parent, name)).lastrowid

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


def _special_kind(mode: int) -> str | None:
    for test, label in _SPECIAL_KINDS:
        if test(mode):
            return label
    return None
