"""Walk phase of a scan: bring the source's open entries up to date with the tree on disk.

Walks depth first; each directory's listing (`odarchive.scan.listing`: `os.scandir` on bytes
paths, names never decoded, symlinks never followed, nothing opened but directories) is read
here, or, on a big first scan, ahead in another process (`odarchive.scan.lister`), which gives
the same listings in the same order. An entry still present in the latest scan is
*open* (`last_snap` NULL). For each directory the walk compares what is on disk with the open
rows of that directory node:
  - unchanged entries cost nothing (no write at all: a re-scan of an unchanged tree of ten
    million files writes nothing but its snapshot row). "Unchanged" means the same kind, size,
    mtime, ctime, mode, owner and hard-link inode: ctime catches a change whose mtime was put
    back (as rsync and restic compare it), and a chmod, chown or xattr change;
  - new or changed entries close the old row (`last_snap` = the previous snapshot) and get a
    new open row; small files are hashed on the way (`odarchive.scan.smallfiles`), others
    later by `odarchive.scan.hasher`;
  - entries gone from disk (or now excluded, or unreadable) are closed, with everything below
    them when they were directories.
Rows are written per directory and committed in batches, so a walk interrupted at any point
(Ctrl-C, kill -9) is continued by walking again: rows already opened by this snapshot are
recognised as unchanged.

Directories given in `WalkOptions.exclude_dirs` (the archive's own home and cache, when they
lie inside the source) are left out and reported once each.

Memory: the stack of directories still to visit, plus one directory's rows at a time (and the
lister's chunks in flight).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import time
from dataclasses import dataclass

from odarchive.catalogue import xattrs as xattr_sets
from odarchive.catalogue.owners import OwnerIds
from odarchive.catalogue.scanning import Meta, OpenRow, ScanRows
from odarchive.catalogue.xattrs import XattrIds
from odarchive.progress import Reporter
from odarchive.scan.hasher import EarlyHashes
from odarchive.scan.lister import INLINE_ENTRIES, Lister
from odarchive.scan.listing import Listing, Rules, below, list_directory
from odarchive.scan.smallfiles import SMALL_FILE, SmallFiles

BATCH_ROWS = 20000
BATCH_SECONDS = 2.0

_REG, _DIR = stat.S_IFREG, stat.S_IFDIR


@dataclass(frozen=True)
class WalkOptions:
    excludes: tuple[str, ...] = ()
    rehash: bool = False  # files get new rows without content, so every file is hashed again
    exclude_dirs: tuple[tuple[int, int, str], ...] = ()  # (st_dev, st_ino, why) of directories left out
    processes: int = 0  # processes beside the walk: hashing small files, listing ahead (0: none)


@dataclass
class WalkCounts:
    entries: int = 0
    unchanged: int = 0
    skipped: int = 0


class Walker:
    """Walks one source into snapshot `rows.snap` (its last complete snapshot: `rows.prev`)."""

    def __init__(
        self,
        rows: ScanRows,
        options: WalkOptions,
        reporter: Reporter,
        early: EarlyHashes | None = None,
    ) -> None:
        """Large files the walk records are handed to `early`, to be hashed beside the walk."""
        self.rows = rows
        self.early = early
        self.options = options
        self.reporter = reporter
        self.counts = WalkCounts()
        self.excluded: list[str] = []
        self.owners = OwnerIds(rows.conn)
        self._owner_ids = self.owners.ids
        self.xattr_ids = XattrIds(rows.conn)
        self.small = SmallFiles(rows, self.xattr_ids, reporter, options.processes)
        self._exclude = {(dev, ino): why for dev, ino, why in options.exclude_dirs}
        self._dev = 0
        self._rules = Rules(options.excludes, self._exclude, 0)
        self._lister: Lister | None = None
        self._lister_started = False
        self._compared = 0  # entries of directories whose listing digest had changed
        self._pending = 0
        self._last_commit = time.monotonic()

    def walk(self, source_path: bytes, root_name: bytes, root_dir: int) -> WalkCounts:
        """Walk `source_path` (archived as `root_name`, directory node `root_dir`)."""
        rows = self.rows
        rows.begin()
        try:
            old = rows.open_rows(0, root_name)
            st = os.stat(source_path)
            self._dev = st.st_dev
            meta = self._meta(st, None)
            if not self._unchanged(old.get(root_name), meta):
                self._write(0, [(root_name, meta, False, source_path)], old)
            self.counts.entries += 1
            self._rules = Rules(self.options.excludes, self._exclude, self._dev)
            stack: list[tuple] = [(root_dir, rows.sig(root_dir), source_path, b"")]
            while stack:
                stack.extend(reversed(self._walk_dir(*stack.pop())))
                self._maybe_commit()
                if not self._lister_started:
                    self._read_ahead(stack)
            self.small.flush()
            rows.commit()
        except BaseException:
            rows.commit_if_open()  # keep what was walked: the next run continues from it
            raise
        finally:
            if self._lister is not None:
                self._lister.close()
            self.small.close()
        return self.counts

    def _meta(self, st: os.stat_result, target: bytes | None) -> Meta:
        """(size, mtime_ns, mode, ctime_off, owner, ino, target) of what lstat saw (the root; the
        loop in `_walk_dir` computes the same inline, for speed)."""
        mode = st.st_mode
        linked = st.st_ino if st.st_nlink > 1 and mode & 0o170000 == _REG and st.st_dev == self._dev else None
        size = 0 if mode & 0o170000 == _DIR else len(target) if target is not None else st.st_size
        return (
            size,
            st.st_mtime_ns,
            mode,
            st.st_ctime_ns - st.st_mtime_ns,
            self.owners.id_for(st.st_uid, st.st_gid),
            linked,
            target,
        )

    # ---- one directory ----
    def _walk_dir(self, node: int, sig: bytes | None, abspath: bytes, relpath: bytes) -> list[tuple]:
        """Bring one directory's open rows up to date; returns the subdirectories to visit.

        This runs once per entry of the tree, so it is written for speed. The listing (names and
        stat) is digested; when the digest equals the one stored for the directory node at the
        last walk, its rows are known to match and are not even read (see BENCHMARKS.md).
        """
        found, mapped = self._listing(abspath, relpath)
        if found.error is not None:
            # The directory's own entry is recorded; what is inside cannot be listed now.
            self._skip(node, b".", found.error, abspath)
            self._close_missing(node, self.rows.open_rows(node), set())
            self.rows.set_sig(node, None)
            return []
        for name, reason, path in found.skipped:
            self._skip(node, name, reason, path)
        for path, why in found.left_out:
            self._left_out(path, why)
        listing = found.items
        if not mapped:  # from the lister: owners as (uid, gid)
            owner_ids = self._owner_ids
            owner_of = self.owners.id_for
            listing = [
                (name, (m[0], m[1], m[2], m[3], owner_ids.get(m[4]) or owner_of(*m[4]), m[5], m[6]), sparse, path)
                for name, m, sparse, path in listing
            ]
        digest = hashlib.blake2b(pickle.dumps([item[:3] for item in listing], protocol=5), digest_size=16).digest()
        if digest == sig and not self.options.rehash:
            self.counts.unchanged += len(listing)
        else:
            self._compared += len(listing)
            self._compare(node, listing)
            self.small.listed(node, digest)
        self.counts.entries += len(listing)
        self.reporter.advance(items=len(listing))
        subdirs = found.subdirs
        children = self.rows.child_dirs(node) if subdirs else {}
        out = []
        for name in subdirs:
            child_id, child_sig = children.get(name) or (self.rows.new_dir(node, name), None)
            out.append((child_id, child_sig, *below(abspath, relpath, name)))
        return out

    def _listing(self, abspath: bytes, relpath: bytes) -> tuple[Listing, bool]:
        """The directory's listing, and whether its owners are the catalogue's ids already: from
        the lister process once it runs (owners as (uid, gid)), else read here (mapped)."""
        if self._lister is not None:
            got = self._lister.next(abspath)
            if isinstance(got, Listing):
                return got, False
            self._lister = None
            self.reporter.event("warning", path=os.fsdecode(abspath), reason=f"{got}; listing here")
        return list_directory(abspath, relpath, self._rules, self.owners.id_for), True

    def _read_ahead(self, stack: list[tuple]) -> None:
        """Start the lister on the directories still to visit, once the walk has compared many
        entries row by row (a first scan, a tree much changed)."""
        if self._compared >= INLINE_ENTRIES and stack and self.options.processes > 0:
            self._lister_started = True
            try:
                self._lister = Lister([(abspath, relpath) for _, _, abspath, relpath in stack], self._rules)
            except (OSError, ValueError) as e:  # no fork server here
                self.reporter.event("warning", reason=f"cannot read directories ahead ({e}); listing here")

    def _unchanged(self, prior: OpenRow | None, meta: Meta) -> bool:
        """Whether an open row still holds for what the walk saw (filling in rows made before schema 3)."""
        if prior is None:
            return False
        is_file = meta[2] & 0o170000 == _REG
        hashed = not is_file or prior[10] == self.rows.snap or (prior[9] is not None and not self.options.rehash)
        if prior[1:8] == meta:
            return hashed
        if prior[4] is None and prior[1:4] == meta[:3] and prior[7] == meta[6] and hashed:
            self.rows.fill_in(prior[8], meta[3], meta[4], meta[5])  # a row from before schema 3: keep it
            return True
        return False

    def _compare(self, node: int, listing: list[tuple[bytes, Meta, bool, bytes]]) -> None:
        """Row by row: new and changed entries get new rows, vanished ones are closed."""
        old = self.rows.open_rows(node)
        if not old:  # a new directory: everything is new
            self._write(node, listing, old)
            return
        changed = []
        for item in listing:
            if self._unchanged(old.get(item[0]), item[1]):
                self.counts.unchanged += 1
            else:
                changed.append(item)
        self._write(node, changed, old)
        self._close_missing(node, old, {item[0] for item in listing})

    # ---- rows ----
    def _write(self, node: int, changed: list[tuple[bytes, Meta, bool, bytes]], old: dict[bytes, OpenRow]) -> None:
        """New rows for new or changed entries; the rows they replace are closed."""
        inserts = []
        small = []
        rehash = self.options.rehash
        for name, meta, sparse, path in changed:
            fmt = meta[2] & 0o170000
            prior = old.get(name)
            content = None
            if prior is not None:
                if (
                    fmt == _REG
                    and not rehash
                    and prior[9] is not None
                    and prior[3] & 0o170000 == _REG
                    and prior[1:3] == meta[:2]
                    and prior[4] == meta[3]
                ):
                    content = prior[9]  # same bytes (size, mtime and ctime agree): only the owner name changed
                self.rows.close(node, name, prior, subtree=prior[3] & 0o170000 == _DIR and fmt != _DIR)
            if fmt == _REG and content is None and meta[0] <= SMALL_FILE and not sparse:
                small.append((name, path, meta))
                continue
            attrs = None
            if fmt == _DIR:
                attrs = self._dir_xattrs(path)
            elif fmt == _REG and content is None and self.early is not None:
                self.early.submit(path, meta[0])
            inserts.append((name, meta, attrs, content))
        if inserts:
            self.rows.insert(node, inserts)
        if small:
            self.small.add(node, small)
        self._pending += len(changed) + 1

    def _dir_xattrs(self, path: bytes) -> int | None:
        try:
            attrs = xattr_sets.read(path)
        except OSError as e:
            self.reporter.event(
                "warning", path=os.fsdecode(path), reason=f"extended attributes not archived: {e.strerror}"
            )
            return None
        return self.xattr_ids.id_for(xattr_sets.encode(attrs)) if attrs else None

    def _close_missing(self, node: int, old: dict[bytes, OpenRow], present: set[bytes]) -> None:
        for name, prior in old.items():
            if name not in present:
                self.rows.close(node, name, prior, subtree=prior[3] & 0o170000 == _DIR)

    def _skip(self, node: int, name: bytes, reason: str, path: bytes) -> None:
        self.counts.skipped += 1
        self.rows.skip(node, name, reason)
        self.reporter.event("skipped", path=os.fsdecode(path), reason=reason)

    def _left_out(self, path: bytes, why: str) -> None:
        self.excluded.append(os.fsdecode(path))
        self.reporter.event("excluded", path=os.fsdecode(path), reason=why)

    def _maybe_commit(self) -> None:
        if self._pending >= BATCH_ROWS or time.monotonic() - self._last_commit >= BATCH_SECONDS:
            self.rows.commit()
            self.rows.begin()
            self._pending = 0
            self._last_commit = time.monotonic()
