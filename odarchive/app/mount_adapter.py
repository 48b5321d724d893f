"""The catalogue as the mount sees it: `fuse_mount.catalogue_view.CatalogueView` over SQLite.

Lives in the wiring layer because only `odarchive.app` may import both the core and
`fuse_mount`. Thread-safe: each call borrows a read-only connection from a small pool (FUSE
calls arrive on threads that libfuse creates and ends at will, and every callback from such a
thread has a fresh Python thread state, so thread-local connections would leak one per call);
`generation()` uses one watcher connection under a lock,
whose `PRAGMA data_version` moves whenever another connection (create_db, plan_iso, a burn)
commits, so new snapshots and discs show up in a running mount.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fuse_mount.catalogue_view import Content, Disc, Entry, Piece, RootSnapshot
from odarchive.catalogue import Catalogue, browse, chunks, tree, xattrs
from odarchive.catalogue import copies as copy_rows
from odarchive.catalogue import discs as disc_rows
from odarchive.iso.build import volume_ident

PAGE_CACHE_KIB = 2048  # per pooled connection; the kernel's page cache holds the rest


def _entry(conn, dir_id: int, name: bytes, snap: int, row: tuple) -> Entry:
    """An `Entry` from a `browse` row; hard links get their link count and shared inode."""
    entry_id, kind, size, mtime_ns, mode, content_id, target, uid, gid, attrs, ino, source_id, ctime_ns = row
    nlink, inode = browse.links(conn, source_id, ino, snap) if ino is not None else (1, None)
    return Entry(
        entry_id, dir_id, name, kind, size, mtime_ns, mode, content_id, target, uid, gid, attrs, nlink, inode, ctime_ns
    )


class CatalogueAdapter:
    """A thread-safe, read-only `CatalogueView` of the catalogue file at `path`."""

    def __init__(self, path: Path, pool_size: int = 16) -> None:
        self._path = path
        self._pool: list[Catalogue] = []
        self._pool_size = pool_size
        self._pool_lock = threading.Lock()
        self._watch = self._open()
        self._watch_lock = threading.Lock()

    def _open(self) -> Catalogue:
        cat = Catalogue.open(self._path, readonly=True, check_same_thread=False)
        cat.set_cache_kib(PAGE_CACHE_KIB)  # bounded RSS whatever the catalogue size
        return cat

    @contextmanager
    def _cat(self) -> Iterator[Catalogue]:
        """A read-only connection for the duration of one call (from the pool, else new)."""
        with self._pool_lock:
            cat = self._pool.pop() if self._pool else None
        if cat is None:
            cat = self._open()
        try:
            yield cat
        finally:
            with self._pool_lock:
                keep = len(self._pool) < self._pool_size
                if keep:
                    self._pool.append(cat)
            if not keep:
                cat.close()

    def close(self) -> None:
        with self._watch_lock:
            self._watch.close()
        with self._pool_lock:
            pool, self._pool = self._pool, []
        for cat in pool:
            cat.close()

    def generation(self) -> int:
        with self._watch_lock:
            return self._watch.data_version()

    def latest_roots(self) -> list[RootSnapshot]:
        with self._cat() as cat:
            return [RootSnapshot(*r) for r in browse.latest_roots(cat.conn)]

    def snapshots(self) -> list[RootSnapshot]:
        with self._cat() as cat:
            return [RootSnapshot(*r) for r in browse.complete_snapshots(cat.conn)]

    def lookup(self, dir_id: int, name: bytes, snap: int) -> Entry | None:
        # the one query behind every stat: only the columns the mount shows
        with self._cat() as cat:
            r = browse.lookup(cat.conn, dir_id, name, snap)
            return _entry(cat.conn, dir_id, name, snap, r) if r is not None else None

    def child_dir(self, dir_id: int, name: bytes) -> int | None:
        with self._cat() as cat:
            return tree.child_dir(cat, dir_id, name)

    def list_attrs(self, dir_id: int, snap: int) -> Iterator[tuple]:
        with self._cat() as cat:  # held until the listing is consumed or dropped
            yield from browse.list_attrs(cat.conn, dir_id, snap)

    def entries_at_most(self, dir_id: int, snap: int, limit: int) -> bool:
        with self._cat() as cat:
            return browse.entries_at_most(cat.conn, dir_id, snap, limit)

    def list_entries(self, dir_id: int, snap: int) -> Iterator[Entry]:
        with self._cat() as cat:
            for r in browse.list_entries(cat.conn, dir_id, snap):
                yield _entry(cat.conn, dir_id, r[0], snap, r[1:])

    def totals(self) -> tuple[int, int]:
        with self._cat() as cat:
            return browse.totals(cat.conn)

    def content(self, content_id: int) -> Content:
        with self._cat() as cat:
            sha, size = cat.content(content_id)
        return Content(content_id, bytes(sha), size)

    def pieces(self, content_id: int) -> list[Piece]:
        with self._cat() as cat:
            return [Piece(*p) for p in browse.placements(cat.conn, content_id)]

    def chunk_size(self) -> int:
        with self._cat() as cat:
            return cat.chunk_size

    def chunk_hashes(self, content_id: int) -> dict[int, bytes]:
        with self._cat() as cat:
            return chunks.of_content(cat.conn, content_id)

    def disc(self, disc_id: int) -> Disc | None:
        with self._cat() as cat:
            found = copy_rows.of_disc(cat.conn, disc_id)
            image_name = disc_rows.image_name(cat.conn, disc_id)
        if found is None:
            return None
        plan_label, ((_, state, slot, location, _), *others) = found
        copies = [(s, loc) for _, st, s, loc, _ in others if st == "verified"]
        places = [f"set A: {location}"] if location else []
        places += [f"set {chr(ord('B') + i)}: {loc}" for i, (s, loc) in enumerate(copies) if s is None and loc]
        return Disc(
            disc_id,
            volume_ident(plan_label, disc_id),
            image_name,
            state,
            slot,
            tuple(s for s, _ in copies if s is not None),
            "; ".join(places) or None,
        )

    def xattrs(self, set_id: int) -> dict[str, bytes]:
        with self._cat() as cat:
            return xattrs.get(cat.conn, set_id)

    def holds_acls(self) -> bool:
        with self._cat() as cat:
            return browse.holds_acls(cat.conn)
