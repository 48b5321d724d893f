"""The file-system model of the mount, without FUSE: plain Python that tests call directly.

Paths are absolute bytes (`b"/photos/2019/a.jpg"`), names exactly as archived, so names that
are not UTF-8 round-trip (the FUSE layer decodes with surrogateescape and encodes back).

Tree:

    /<root>/...                   the latest complete snapshot of every source root
    /.snapshots/<id>/<root>/...   every complete snapshot, by snapshot id

Metadata comes from the catalogue alone (`CatalogueView`); file bytes come from a
`ContentReader` (the cache in front of the fetcher), so a read waiting for a disc never holds
a lock that `getattr`, `readdir` or a cached read needs.

Inode numbers are stable across mounts: 1 is `/`, 2 is `/.snapshots`, 16 + id is
`/.snapshots/<id>`, and an entry shown in view v (0 = top, else the snapshot id) has
`(entry_id << 24) | v`.

Attributes are the archived ones (owner, group, mode, mtime, ctime, hard links as one inode
with their link count; the mount's own uid/gid where the catalogue does not know the owner);
directories show one link (not counted). A listing gives every entry's attributes from one
query (`CatalogueView.list_attrs`), for FUSE readdirplus.

Memory: resolved paths and whole listings of directories being walked are kept in bounded
caches (`fuse_mount.memo`), so `stat` of every file of a tree costs about one catalogue query
per directory, and memory stays flat whatever the catalogue's size. Served through the kernel
(`on_walk` set), a walked directory's listing goes to the kernel instead (readdirplus), and
the walk's other names seldom reach the mount.

Threads: every method may be called from many FUSE threads at once. `_lock` guards the
caches, the handle table and the roots; it is never held while calling the catalogue or the
reader.
"""

from __future__ import annotations

import itertools
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple, NoReturn, Protocol

from fuse_mount.catalogue_view import CatalogueView, Content, Entry, RootSnapshot
from fuse_mount.errors import IsADirectory, NoAttribute, NotADirectory, NotASymlink, NotFound, ReadOnly
from fuse_mount.fd_reads import ChunkFds, Piece
from fuse_mount.memo import Listings, Lru

SNAPSHOTS = b".snapshots"
ROOT_INO = 1
SNAPSHOTS_INO = 2
SNAPDIR_INO_BASE = 16
VIEW_BITS = 24
VIEW_MASK = (1 << VIEW_BITS) - 1
XATTR_SHA256 = "user.odarchive.sha256"
XATTR_DISCS = "user.odarchive.discs"
XATTR_CACHED = "user.odarchive.cached"
XATTRS = (XATTR_SHA256, XATTR_DISCS, XATTR_CACHED)
DIR_MODE = stat.S_IFDIR | 0o555
READ_BLOCK = 1 << 20  # a read asks the cache for this much and keeps the rest for the next reads
READ_BUFFERS = 64  # open files that keep such a block (64 MiB at most)
BLOCK_SIZE = 4096
WALKED_AT = 3
"""The names looked up one by one in a directory that make it a walk (`Vfs._lookup`)."""


class ContentReader(Protocol):
    """Where file bytes come from: the cache, and on a miss the fetcher (may block)."""

    def read(self, content: Content, offset: int, size: int) -> bytes: ...

    def extents(self, content: Content, offset: int, size: int, fds: ChunkFds) -> list[Piece] | None:
        """Where the range lies in verified cache files (opened in `fds`), or None: `read` it."""

    def opened(self, content: Content) -> None:
        """A file of this content was opened: keep it in the cache while open."""

    def closed(self, content: Content) -> None: ...

    def cached(self, content: Content) -> str:
        """ "yes", "partial" or "no": how much of the content the cache holds now."""


class Attr(NamedTuple):  # a tuple in `fuse_lib.STAT_ROW` order: listings hand it to libfuse as it is
    ino: int
    mode: int
    nlink: int
    uid: int
    gid: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @property
    def blocks(self) -> int:
        return (self.size + 511) // 512


class Node(NamedTuple):
    """A resolved path: a virtual directory (entry None) or a catalogue entry in a view (a
    tuple: one is built for every path looked up)."""

    ino: int
    kind: str  # 'd', 'f', 'l'
    view: int  # 0: the top level; otherwise the snapshot id under /.snapshots
    snap: int  # the snapshot the entry is read from (0 for virtual directories)
    entry: Entry | None
    children: int | None  # directory node holding the children of a real directory


@dataclass(frozen=True)
class Handle:
    content: Content
    entry: Entry
    path: bytes
    keep_cache: bool
    direct_io: bool


class Vfs:
    """The read-only archive as a file system: attributes, listings, links, xattrs, reads."""

    def __init__(
        self,
        catalogue: CatalogueView,
        reader: ContentReader,
        *,
        refresh_s: float = 2.0,
        node_cache_entries: int = 20_000,
        listing_entries: int = 100_000,
        uid: int | None = None,
        gid: int | None = None,
    ) -> None:
        self._cat = catalogue
        self._reader = reader
        self._refresh_s = refresh_s
        self._uid = os.getuid() if uid is None else uid
        self._gid = os.getgid() if gid is None else gid
        self._lock = threading.Lock()
        self._nodes: Lru[bytes, Node] = Lru(node_cache_entries)
        self._listings = Listings(listing_entries)
        self._lookups: Lru[tuple[int, int], int] = Lru(1024)  # names looked up one by one, by directory
        self._handles: dict[int, Handle] = {}
        self._served: Lru[bytes, bytes] = Lru(node_cache_entries)  # path -> content the kernel may cache for it
        self._blocks: Lru[int, tuple[int, bytes]] = Lru(READ_BUFFERS)  # fh -> (offset, bytes)
        self._fds: dict[int, ChunkFds] = {}  # fh -> the cache files its reads were served from
        self._fh = itertools.count(1)
        self._generation: int | None = None
        self._checked = 0.0
        self._latest: dict[bytes, RootSnapshot] = {}
        self._snapshots: dict[int, RootSnapshot] = {}
        self._totals: tuple[int | None, int, int] | None = None  # (generation, content bytes, entries)
        self._acls: tuple[int | None, bool] | None = None  # (generation, whether the archive holds ACLs)
        self._xattr_sets: Lru[int, dict[str, bytes]] = Lru(1024)
        self._contents: Lru[int, Content] = Lru(node_cache_entries)  # content id -> its record (every open)
        self.tree_version = 0
        """Counts changes of the tree shown (a snapshot completed or went away)."""
        self.on_walk: Callable[[bytes], None] | None = None
        """Told the path of a directory being walked name by name (its third name looked up,
        and small enough to be read whole): the FUSE layer lists it through the kernel
        (`fuse_mount.prefetch`), so it is not read into the listing memo too. Called on a FUSE
        thread: it must not block."""
        self._mounted_ns = time.time_ns()
        self.refresh(force=True)

    # ---- catalogue changes ----
    def refresh(self, force: bool = False) -> bool:
        """Re-read the roots if the catalogue changed (at most every `refresh_s`); True if it did."""
        now = time.monotonic()
        if not force and now - self._checked < self._refresh_s:
            return False
        generation = self._cat.generation()
        self._checked = now
        if not force and generation == self._generation:
            return False
        latest = {r.root_name: r for r in self._cat.latest_roots()}
        snapshots = {r.snapshot_id: r for r in self._cat.snapshots()}
        with self._lock:
            self._generation = generation
            if (latest, snapshots) != (self._latest, self._snapshots):
                self.tree_version += 1
            self._latest, self._snapshots = latest, snapshots
            self._nodes.clear()
            self._listings.clear()
            self._lookups.clear()
            self._contents.clear()
        return True

    def generation(self) -> int | None:
        """The catalogue's version the tree is shown from (checked for changes at most every
        `refresh_s`): whatever was read at one generation is the same until it changes."""
        self.refresh()
        return self._generation

    def top_names(self) -> set[bytes]:
        """The names at the top of the tree: every root name and `.snapshots`."""
        with self._lock:
            return set(self._latest) | {SNAPSHOTS}

    # ---- resolving paths ----
    def resolve(self, path: bytes) -> Node:
        self.refresh()
        return self._resolve(b"/" + path.strip(b"/"))

    def _resolve(self, path: bytes) -> Node:
        """`resolve` of a normalised path (b"/" or b"/a/b"), without the refresh check."""
        with self._lock:
            node = self._nodes.get(path)
        if node is not None:
            return node
        generation = self._generation
        node = self._resolve_uncached(path)
        with self._lock:
            if generation == self._generation:  # not resolved against a catalogue since replaced
                self._nodes.put(path, node)
        return node

    def _resolve_uncached(self, path: bytes) -> Node:
        if path == b"/":
            return Node(ROOT_INO, "d", 0, 0, None, None)
        parent_path, _, name = path.rpartition(b"/")
        parent = self._resolve(parent_path or b"/")
        if parent.kind != "d":
            raise NotADirectory(f"not a directory: {parent_path!r}")
        if parent.ino == ROOT_INO:
            if name == SNAPSHOTS:
                return Node(SNAPSHOTS_INO, "d", 0, 0, None, None)
            root = self._latest.get(name)
            return self._root_node(root, 0, name)
        if parent.ino == SNAPSHOTS_INO:
            snap = self._snapshots.get(int(name)) if name.isdigit() else None
            if snap is None:
                raise NotFound(f"no snapshot {name!r}")
            return Node(SNAPDIR_INO_BASE + snap.snapshot_id, "d", snap.snapshot_id, 0, None, None)
        if parent.entry is None:  # /.snapshots/<id>: holds that snapshot's root
            root = self._snapshots.get(parent.view)
            return self._root_node(root if root is not None and root.root_name == name else None, parent.view, name)
        assert parent.children is not None
        entry = self._lookup(parent.children, name, parent.snap, parent_path)
        if entry is None:
            raise NotFound(f"no such file: {path!r}")
        return self._entry_node(entry, parent.view, parent.snap, parent.children)

    def _lookup(self, dir_node: int, name: bytes, snap: int, dir_path: bytes) -> Entry | None:
        """One name in a directory: from its cached listing, else one query. The third name
        looked up in a directory not larger than a tenth of the listing budget makes it walked:
        told to `on_walk` if set (the kernel is then given the listing, and the walk's other
        names seldom come here), else read whole into the listing memo."""
        key = (dir_node, snap)
        with self._lock:
            listing = self._listings.get(key)
            seen = (self._lookups.get(key) or 0) + 1 if listing is None else 0
            if seen:
                self._lookups.put(key, seen)
        if listing is not None:
            return listing.get(name)
        if seen == WALKED_AT:
            limit = self._listings.max_entries // 10
            if self.on_walk is not None:
                if self._cat.entries_at_most(dir_node, snap, limit):
                    self.on_walk(dir_path)
                return self._cat.lookup(dir_node, name, snap)
            generation = self._generation
            entries = list(itertools.islice(self._cat.list_entries(dir_node, snap), limit + 1))
            if len(entries) <= limit:
                listing = {e.name: e for e in entries}
                with self._lock:
                    if generation == self._generation:
                        self._listings.put(key, listing)
                return listing.get(name)
        return self._cat.lookup(dir_node, name, snap)

    def _root_node(self, root: RootSnapshot | None, view: int, name: bytes) -> Node:
        entry = self._cat.lookup(0, root.root_name, root.snapshot_id) if root is not None else None
        if root is None or entry is None:
            raise NotFound(f"no such root: {name!r}")
        return Node(self._ino(entry, view), "d", view, root.snapshot_id, entry, root.root_dir)

    def _entry_node(self, entry: Entry, view: int, snap: int, dir_node: int) -> Node:
        children = self._cat.child_dir(dir_node, entry.name) if entry.kind == "d" else None
        return Node(self._ino(entry, view), entry.kind, view, snap, entry, children)

    @staticmethod
    def _ino(entry: Entry, view: int) -> int:
        """Hard links of one inode share the inode id (`Entry.inode`), so they show one st_ino."""
        return ((entry.id if entry.inode is None else entry.inode) << VIEW_BITS) | (view & VIEW_MASK)

    # ---- metadata ----
    def getattr(self, path: bytes) -> Attr:
        return self.attr_of(self.resolve(path))

    def attr_of(self, node: Node) -> Attr:
        """A path's attributes: the archived owner, group, mode, times and hard-link count
        (the mount's own uid/gid where the catalogue does not know them). Directories show one
        link (as btrfs does: not counted): counting subdirectories costs a query per directory,
        and find and fts treat 1 as "not counted"."""
        e = node.entry
        if e is None:
            nlink = 2 + (
                len(self._latest) + 1
                if node.ino == ROOT_INO
                else len(self._snapshots)
                if node.ino == SNAPSHOTS_INO
                else 1
            )
            return Attr(node.ino, DIR_MODE, nlink, self._uid, self._gid, 0, self._mounted_ns, self._mounted_ns)
        return Attr(
            node.ino,
            e.mode,
            e.nlink,
            self._uid if e.uid is None else e.uid,
            self._gid if e.gid is None else e.gid,
            e.size,
            e.mtime_ns,
            e.mtime_ns if e.ctime_ns is None else e.ctime_ns,
        )

    def readdir(self, path: bytes) -> Iterator[tuple[bytes, int, int]]:
        """(name, st_mode type bits, inode) of `.`, `..` and every child, streamed."""
        for name, row in self.readdir_attrs(path):
            yield name, stat.S_IFMT(row[1]), row[0]

    def readdir_attrs(self, path: bytes) -> Iterator[tuple[bytes, tuple[int, ...]]]:
        """(name, attributes) of `.`, `..` and every child, streamed: the full attributes of
        every catalogue entry, as a plain tuple in `Attr` order (FUSE readdirplus: `ls -l` and
        `find` need no lookup per entry, one query gives them all; a tuple costs a fifth of an
        `Attr` to build, and a listing builds 100,000), only (inode, mode) for the dots and the
        virtual directories."""
        node = self.resolve(path)
        if node.kind != "d":
            raise NotADirectory(f"not a directory: {path!r}")
        for name, mode, ino in self._dots(path, node):
            yield name, (ino, mode)
        if node.ino == ROOT_INO:
            yield SNAPSHOTS, (SNAPSHOTS_INO, stat.S_IFDIR)
            for name in list(self._latest):
                yield name, (self._child_ino(path, name), stat.S_IFDIR)
        elif node.ino == SNAPSHOTS_INO:
            for snap_id in list(self._snapshots):
                yield str(snap_id).encode(), (SNAPDIR_INO_BASE + snap_id, stat.S_IFDIR)
        elif node.entry is None:
            snapshot = self._snapshots.get(node.view)
            if snapshot is not None:  # else it went away with a catalogue change
                yield snapshot.root_name, (self._child_ino(path, snapshot.root_name), stat.S_IFDIR)
        elif node.children is not None:
            view, uid0, gid0 = node.view & VIEW_MASK, self._uid, self._gid
            for name, mode, ino_id, size, mtime_ns, ctime_ns, uid, gid, nlink in self._cat.list_attrs(
                node.children, node.snap
            ):
                yield (
                    name,
                    (
                        (ino_id << VIEW_BITS) | view,
                        mode,
                        nlink,
                        uid0 if uid is None else uid,
                        gid0 if gid is None else gid,
                        size,
                        mtime_ns,
                        ctime_ns,
                    ),
                )

    def _dots(self, path: bytes, node: Node) -> Iterator[tuple[bytes, int, int]]:
        yield b".", stat.S_IFDIR, node.ino
        parent = path.rstrip(b"/").rpartition(b"/")[0] or b"/"
        yield b"..", stat.S_IFDIR, self.resolve(parent).ino if node.ino != ROOT_INO else ROOT_INO

    def _child_ino(self, path: bytes, name: bytes) -> int:
        try:
            return self.resolve(path.rstrip(b"/") + b"/" + name).ino
        except NotFound:  # the catalogue changed under us
            return 0

    def readlink(self, path: bytes) -> bytes:
        node = self.resolve(path)
        if node.kind != "l" or node.entry is None or node.entry.target is None:
            raise NotASymlink(f"not a symbolic link: {path!r}")
        return node.entry.target

    def statfs(self) -> dict[str, int]:
        """`df`: the size is the bytes of every content archived (each stored content once, as
        the discs hold them), all used; `df -i`: every entry (each version of each file,
        directory and symlink; all are shown, the older ones under .snapshots). Counted once
        per catalogue change (a full count takes a second on 10 million entries)."""
        self.refresh()
        generation = self._generation
        with self._lock:
            totals = self._totals if self._totals is not None and self._totals[0] == generation else None
        if totals is None:
            totals = (generation, *self._cat.totals())
            with self._lock:
                self._totals = totals
        _, nbytes, entries = totals
        blocks = -(-nbytes // BLOCK_SIZE)
        return {
            "f_bsize": BLOCK_SIZE,
            "f_frsize": BLOCK_SIZE,
            "f_namemax": 255,
            "f_blocks": blocks,
            "f_bfree": 0,
            "f_bavail": 0,
            "f_files": entries,
            "f_ffree": 0,
            "f_favail": 0,
        }

    # ---- extended attributes ----
    def listxattr(self, path: bytes) -> list[str]:
        """The archived attributes (`user.*`, POSIX ACLs as `system.posix_acl_*`), as the source
        listed them. The mount's own `user.odarchive.*` (below) are not listed, so that `rsync -X`
        and `getfattr -d` see the source's attributes only; `getfattr -n NAME` reads them."""
        return list(self._archived_xattrs(self.resolve(path)))

    def getxattr(self, path: bytes, name: str) -> bytes:
        node = self.resolve(path)
        if name in XATTRS:
            return self._own_xattr(node, name, path)
        value = self._archived_xattrs(node).get(name)
        if value is None:
            raise NoAttribute(f"no attribute {name} on {path!r}")
        return value

    def answers_acls(self) -> bool:
        """Whether `system.posix_acl_*` may exist here: only if the archive holds any ACL (else
        the FUSE layer says "not supported", which `ls -l` remembers for the whole mount)."""
        self.refresh()
        generation = self._generation
        with self._lock:
            known = self._acls if self._acls is not None and self._acls[0] == generation else None
        if known is None:
            known = (generation, self._cat.holds_acls())
            with self._lock:
                self._acls = known
        return known[1]

    def _archived_xattrs(self, node: Node) -> dict[str, bytes]:
        set_id = node.entry.xattrs if node.entry is not None else None
        if set_id is None:
            return {}
        with self._lock:
            attrs = self._xattr_sets.get(set_id)
        if attrs is None:  # a set never changes: remembered by id
            attrs = self._cat.xattrs(set_id)
            with self._lock:
                self._xattr_sets.put(set_id, attrs)
        return attrs

    def _own_xattr(self, node: Node, name: str, path: bytes) -> bytes:
        if node.kind != "f" or node.entry is None or node.entry.content_id is None:
            raise NoAttribute(f"no attribute {name} on {path!r}")
        content = self._content(node.entry.content_id)
        if name == XATTR_SHA256:
            return content.sha256.hex().encode()
        if name == XATTR_DISCS:
            discs = sorted({p.disc_id for p in self._cat.pieces(content.id)})
            return ",".join(map(str, discs)).encode()
        return self._reader.cached(content).encode()

    def refuse_write(self, path: bytes) -> NoReturn:
        """Every change to the archive (write, create, mkdir, chmod, setxattr ...) ends here."""
        raise ReadOnly(f"read-only file system: {path!r}")

    # ---- file contents ----
    def open(self, path: bytes, flags: int = os.O_RDONLY) -> int:
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND):
            self.refuse_write(path)
        node = self.resolve(path)
        if node.kind == "d":
            raise IsADirectory(f"is a directory: {path!r}")
        entry = node.entry
        if entry is None or entry.kind != "f":
            raise NotFound(f"not a regular file: {path!r}")
        if entry.content_id is not None:
            content = self._content(entry.content_id)
        elif entry.size == 0:
            content = Content(0, b"", 0)
        else:
            raise NotFound(f"{path!r} was never hashed, so it is not archived")
        if content.size:
            self._reader.opened(content)
        path = b"/" + path.strip(b"/")
        with self._lock:
            others = {h.content.sha256 for h in self._handles.values() if h.path == path} - {content.sha256}
            keep = not others and self._served.get(path) == content.sha256
            if not others:
                self._served.put(path, content.sha256)
            fh = next(self._fh)
            self._handles[fh] = Handle(content, entry, path, keep, bool(others))
        return fh

    def _content(self, content_id: int) -> Content:
        """A content's record (hash, size), remembered: every open needs it, and it was a
        catalogue query per open of a small file (forgotten when the catalogue changes)."""
        with self._lock:
            content = self._contents.get(content_id)
        if content is None:
            generation = self._generation
            content = self._cat.content(content_id)
            with self._lock:
                if generation == self._generation:
                    self._contents.put(content_id, content)
        return content

    def page_cache(self, fh: int) -> tuple[bool, bool]:
        """(keep_cache, direct_io) of this open: whether the kernel may keep the pages it
        cached for the file's path, and whether this open must bypass the page cache.

        Contents never change, but a path can show another content after a refresh, and the
        kernel keeps one page cache per path. So pages are kept only when this path served
        the same content at its last open and no open handle of the path holds another one;
        otherwise the open drops them. A path this mount has not recorded (or has forgotten)
        drops them too. An open whose path another open handle shows with another content
        (opened before a refresh) bypasses the page cache, so each reads its own bytes."""
        with self._lock:
            handle = self._handles.get(fh)
        return (handle.keep_cache, handle.direct_io) if handle is not None else (False, False)

    def read(self, fh: int, size: int, offset: int) -> bytes:
        """Bytes of an open file. The kernel asks 128 KiB at a time; each cache read costs more
        than the copy, so a read takes up to `READ_BLOCK` from the cache and the following
        reads of the same file are served from that block."""
        with self._lock:
            handle = self._handles.get(fh)
            block = self._blocks.get(fh)
        if handle is None:
            raise NotFound(f"no open file {fh}")
        content = handle.content
        if offset >= content.size or size <= 0:
            return b""
        size = min(size, content.size - offset)
        if block is not None and block[0] <= offset and offset + size <= block[0] + len(block[1]):
            start = offset - block[0]
            return block[1][start : start + size]
        want = min(max(size, READ_BLOCK), content.size - offset)
        data = self._reader.read(content, offset, want)
        if want > size:
            with self._lock:
                self._blocks.put(fh, (offset, data))
            return data[:size]
        return data

    def read_parts(self, fh: int, size: int, offset: int) -> list[Piece] | bytes:
        """`read` for libfuse's read_buf: where the bytes lie in the cache's verified files
        (libfuse sends them from there, `fuse_mount.fd_reads`), or, when they are not all
        there verified, the bytes themselves from `read` (the fetcher path)."""
        with self._lock:
            handle = self._handles.get(fh)
            fds = self._fds.get(fh)
            if fds is None and handle is not None:
                fds = self._fds[fh] = ChunkFds()
        if handle is None or fds is None:
            raise NotFound(f"no open file {fh}")
        content = handle.content
        if offset >= content.size or size <= 0:
            return b""
        pieces = self._reader.extents(content, offset, min(size, content.size - offset), fds)
        return pieces if pieces is not None else self.read(fh, size, offset)

    def release(self, fh: int) -> None:
        with self._lock:
            handle = self._handles.pop(fh, None)
            self._blocks.pop(fh)
            fds = self._fds.pop(fh, None)
            if handle is not None and self._served.get(handle.path) != handle.content.sha256:
                self._served.pop(handle.path)  # it may have left other pages: the next open drops them
        if fds is not None:
            fds.close()
        if handle is not None and handle.content.size:
            self._reader.closed(handle.content)

    def open_paths(self) -> set[bytes]:
        """The paths of the files open now."""
        with self._lock:
            return {h.path for h in self._handles.values()}

    def open_files(self) -> int:
        with self._lock:
            return len(self._handles)
