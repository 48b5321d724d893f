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
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from fuse_mount.catalogue_view import Content, Disc, Entry, Piece, RootSnapshot
from odarchive.catalogue import Catalogue
from odarchive.catalogue import tree
from odarchive.catalogue.catalogue import valid_in
from odarchive.iso.build import volume_ident

_VALID = valid_in(":snap")
_LOOKUP = (
    "SELECT id, kind, size, mtime_ns, mode, content_id, target FROM entries"
    " WHERE dir_id=? AND name=? AND " + valid_in("?")
)
_LIST = (
    "SELECT id, name, kind, size, mtime_ns, mode, content_id, target FROM entries"
    " WHERE dir_id=? AND " + valid_in("?")
)
_LIST_ATTRS = (  # plain tuples, no objects: `ls -l` of a directory of 100,000 entries reads them all
    "SELECT name, mode, id, size, mtime_ns FROM entries WHERE dir_id=? AND " + valid_in("?") + " ORDER BY name"
)
PAGE_CACHE_KIB = 2048  # per pooled connection; the kernel's page cache holds the rest
_SNAPSHOTS = (
    "SELECT s.id, src.root_name, src.root_dir, COALESCE(s.finished_ns, s.started_ns)"
    " FROM snapshots s JOIN sources src ON src.id = s.source_id WHERE s.state = 'complete'"
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
        cat.conn.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")  # bounded RSS whatever the catalogue size
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
            return int(self._watch.conn.execute("PRAGMA data_version").fetchone()[0])

    def latest_roots(self) -> list[RootSnapshot]:
        sql = (
            _SNAPSHOTS + " AND s.id = (SELECT max(id) FROM snapshots x WHERE x.source_id = s.source_id"
            " AND x.state = 'complete') ORDER BY src.root_name"
        )
        with self._cat() as cat:
            return [RootSnapshot(*r) for r in cat.conn.execute(sql)]

    def snapshots(self) -> list[RootSnapshot]:
        with self._cat() as cat:
            return [RootSnapshot(*r) for r in cat.conn.execute(_SNAPSHOTS + " ORDER BY s.id")]

    def lookup(self, dir_id: int, name: bytes, snap: int) -> Entry | None:
        # the one query behind every stat: only the columns the mount shows, positional
        # parameters (tree.lookup builds a full EntryRow; this is ~2x cheaper per call)
        with self._cat() as cat:
            r = cat.conn.execute(_LOOKUP, (dir_id, name, snap, snap)).fetchone()
        return Entry(r[0], dir_id, name, *r[1:]) if r is not None else None

    def child_dir(self, dir_id: int, name: bytes) -> int | None:
        with self._cat() as cat:
            return tree.child_dir(cat, dir_id, name)

    def list_attrs(self, dir_id: int, snap: int) -> Iterator[tuple[bytes, int, int, int, int]]:
        with self._cat() as cat:  # held until the listing is consumed or dropped
            yield from cat.conn.execute(_LIST_ATTRS, (dir_id, snap, snap))

    def list_entries(self, dir_id: int, snap: int) -> Iterator[Entry]:
        with self._cat() as cat:
            for r in cat.conn.execute(_LIST, (dir_id, snap, snap)):
                yield Entry(r[0], dir_id, *r[1:])

    def count_subdirs(self, dir_id: int, snap: int) -> int:
        sql = f"SELECT count(*) FROM entries WHERE dir_id=:dir AND kind='d' AND {valid_in()}"
        with self._cat() as cat:
            return int(cat.conn.execute(sql, {"dir": dir_id, "snap": snap}).fetchone()[0])

    def totals(self) -> tuple[int, int]:
        with self._cat() as cat:
            nbytes = cat.conn.execute("SELECT coalesce(sum(size), 0) FROM contents").fetchone()[0]
            entries = cat.conn.execute("SELECT count(*) FROM entries").fetchone()[0]
        return int(nbytes), int(entries)

    def content(self, content_id: int) -> Content:
        with self._cat() as cat:
            sha, size = cat.content(content_id)
        return Content(content_id, bytes(sha), size)

    def pieces(self, content_id: int) -> list[Piece]:
        with self._cat() as cat:
            extents: dict[int, list[tuple[int, int]]] = {}
            for piece, offset, length in cat.conn.execute(
                "SELECT piece, image_offset, length FROM extents WHERE content_id=? ORDER BY piece, seq", (content_id,)
            ):
                extents.setdefault(piece, []).append((offset, length))
            return [
                Piece(piece, disc, offset, length, tuple(extents.get(piece, ())))
                for piece, disc, offset, length in cat.conn.execute(
                    "SELECT piece, disc_id, offset, length FROM placements WHERE content_id=? ORDER BY piece", (content_id,)
                )
            ]

    def chunk_size(self) -> int:
        with self._cat() as cat:
            return cat.chunk_size

    def chunk_hashes(self, content_id: int) -> dict[int, bytes]:
        with self._cat() as cat:
            rows = cat.conn.execute("SELECT chunk, sha256 FROM chunk_hashes WHERE content_id=?", (content_id,))
            return {chunk: bytes(sha) for chunk, sha in rows}

    def disc(self, disc_id: int) -> Disc | None:
        with self._cat() as cat:
            r = cat.conn.execute("SELECT id, label, image_name, state, slot, location FROM discs WHERE id=?",
                                 (disc_id,)).fetchone()
            copies = cat.conn.execute("SELECT slot, location FROM disc_copies WHERE disc_id=? AND state='verified'"
                                      " ORDER BY copy", (disc_id,)).fetchall()
        if r is None:
            return None
        disc, plan_label, image_name, state, slot, location = r
        places = [f"set A: {location}"] if location else []
        places += [f"set {chr(ord('B') + i)}: {loc}" for i, (s, loc) in enumerate(copies) if s is None and loc]
        return Disc(disc, volume_ident(plan_label, disc), image_name, state, slot,
                    tuple(s for s, _ in copies if s is not None), "; ".join(places) or None)
