"""The scan job: choose or continue the snapshot, walk, hash, complete.

Phases are recorded in `snapshots.phase` and every batch is committed, so after a crash the
next `create_db` of the same source finds its snapshot still 'running' and continues it:
the walk is repeated cheaply (rows already in the snapshot are recognised) and only files
without a content are hashed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from odarchive.catalogue import Catalogue, Source
from odarchive.catalogue.catalogue import valid_in
from odarchive.errors import InputError
from odarchive.progress import NullReporter, Reporter
from odarchive.scan.hasher import Hasher
from odarchive.scan.walker import WalkOptions, Walker


@dataclass(frozen=True)
class ScanOptions:
    root_name: bytes | None = None  # default: the source directory's basename
    jobs: int = field(default_factory=lambda: min(8, os.cpu_count() or 2))
    excludes: tuple[str, ...] = ()
    rehash: bool = False


@dataclass
class ScanSummary:
    source: str
    root_name: str
    snapshot: int
    resumed: bool
    entries: int
    files: int
    unchanged: int
    hashed_files: int
    hashed_bytes: int
    new_contents: int
    skipped: int
    seconds: float


def validate_root_name(name: bytes) -> bytes:
    if not name or b"/" in name or name in (b".", b"..") or b"\0" in name:
        raise InputError(f"invalid root name {os.fsdecode(name)!r}", hint="use --name with a plain name, no '/'")
    return name


def check_source(source: str | os.PathLike[str] | bytes) -> bytes:
    """The absolute bytes path of a source directory, or a clear error."""
    path = os.path.abspath(os.fsencode(source))
    if not os.path.exists(path):
        raise InputError(f"source {os.fsdecode(path)} does not exist", hint="give the directory to archive")
    if not os.path.isdir(path):
        raise InputError(f"source {os.fsdecode(path)} is not a directory", hint="give the directory to archive")
    return path


def scan_source(cat: Catalogue, source: str | os.PathLike[str] | bytes, options: ScanOptions | None = None,
                reporter: Reporter | None = None) -> ScanSummary:
    options = options or ScanOptions()
    reporter = reporter or NullReporter()
    t0 = time.monotonic()
    path = check_source(source)
    root_name = validate_root_name(options.root_name or os.path.basename(path.rstrip(b"/")) or b"root")

    src = _source(cat, root_name, path)
    snap, resumed = _snapshot(cat, src)
    prev = _previous_complete(cat, src.id, snap)

    walk_counts = None
    if cat.snapshot(snap).phase == "walk" or options.rehash or not resumed:
        reporter.start("walk")
        walker = Walker(cat, src.id, snap, prev, WalkOptions(options.excludes, options.rehash), reporter)
        walk_counts = walker.walk(path, root_name, src.root_dir)
        reporter.finish()
        cat.conn.execute("UPDATE snapshots SET phase='hash' WHERE id=?", (snap,))

    hasher = Hasher(cat, snap, path, src.root_dir, options.jobs, reporter)
    files, nbytes = hasher.pending()
    reporter.start("hash", total_items=files, total_bytes=nbytes)
    counts = hasher.run()
    reporter.finish()

    cat.conn.execute(
        "UPDATE snapshots SET state='complete', phase='done', finished_ns=? WHERE id=?", (time.time_ns(), snap)
    )
    skipped = cat.conn.execute("SELECT count(*) FROM skipped WHERE snapshot_id=?", (snap,)).fetchone()[0]
    entries, nfiles = cat.conn.execute(
        f"SELECT count(*), coalesce(sum(kind='f'), 0) FROM entries WHERE source_id=? AND {valid_in('?')}",
        (src.id, snap, snap),
    ).fetchone()
    return ScanSummary(
        source=os.fsdecode(path), root_name=os.fsdecode(root_name), snapshot=snap, resumed=resumed,
        entries=entries, files=nfiles, unchanged=walk_counts.unchanged if walk_counts else 0,
        hashed_files=counts.files, hashed_bytes=counts.bytes, new_contents=counts.new_contents,
        skipped=skipped, seconds=round(time.monotonic() - t0, 3),
    )


def _source(cat: Catalogue, root_name: bytes, path: bytes) -> Source:
    with cat.transaction() as conn:
        existing = cat.source_by_name(root_name)
        if existing:
            if existing.path != path:
                conn.execute("UPDATE sources SET path=? WHERE id=?", (path, existing.id))
            return cat.source_by_name(root_name)  # type: ignore[return-value]
        row = conn.execute("SELECT id FROM dirs WHERE parent_id=0 AND name=?", (root_name,)).fetchone()
        root_dir = row[0] if row else conn.execute(
            "INSERT INTO dirs (parent_id, name) VALUES (0, ?)", (root_name,)).lastrowid
        conn.execute("INSERT INTO sources (root_name, path, root_dir) VALUES (?, ?, ?)", (root_name, path, root_dir))
    return cat.source_by_name(root_name)  # type: ignore[return-value]


def _snapshot(cat: Catalogue, src: Source) -> tuple[int, bool]:
    """The running snapshot of this source to continue, or a new one. (id, resumed)"""
    with cat.transaction() as conn:
        row = conn.execute(
            "SELECT id FROM snapshots WHERE source_id=? AND state='running' ORDER BY id DESC LIMIT 1", (src.id,)
        ).fetchone()
        if row:
            return row[0], True
        snap = conn.execute(
            "INSERT INTO snapshots (source_id, started_ns, state, phase) VALUES (?, ?, 'running', 'walk')",
            (src.id, time.time_ns()),
        ).lastrowid
        return snap, False


def _previous_complete(cat: Catalogue, source_id: int, snap: int) -> int | None:
    row = cat.conn.execute(
        "SELECT max(id) FROM snapshots WHERE source_id=? AND state='complete' AND id < ?", (source_id, snap)
    ).fetchone()
    return row[0]
