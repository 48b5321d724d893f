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

from odarchive.catalogue import Catalogue, snapshots
from odarchive.catalogue.scanning import ScanRows
from odarchive.errors import InputError
from odarchive.progress import NullReporter, Reporter
from odarchive.scan.hasher import EarlyHashes, Hasher
from odarchive.scan.walker import Walker, WalkOptions


@dataclass(frozen=True)
class ScanOptions:
    root_name: bytes | None = None  # default: the source directory's basename
    jobs: int = field(default_factory=lambda: min(8, os.cpu_count() or 2))
    excludes: tuple[str, ...] = ()
    rehash: bool = False
    # directories never archived (the archive's home and cache), with why: see `exclude_dirs`
    exclude_dirs: tuple[tuple[bytes, str], ...] = ()


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
    excluded: list[str] = field(default_factory=list)


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


def scan_source(
    cat: Catalogue,
    source: str | os.PathLike[str] | bytes,
    options: ScanOptions | None = None,
    reporter: Reporter | None = None,
) -> ScanSummary:
    options = options or ScanOptions()
    reporter = reporter or NullReporter()
    t0 = time.monotonic()
    path = check_source(source)
    root_name = validate_root_name(options.root_name or os.path.basename(path.rstrip(b"/")) or b"root")

    src = snapshots.ensure_source(cat, root_name, path)
    snap, resumed = snapshots.running_or_new(cat, src.id)
    prev = snapshots.previous_complete(cat, src.id, snap)

    rows = ScanRows(cat.conn, src.id, snap, prev)
    walk_counts = None
    small = None
    excluded: list[str] = []
    snapshot = cat.snapshot(snap)
    assert snapshot is not None, "begin_snapshot made it"
    early = EarlyHashes(options.jobs, cat.chunk_size)  # large files hashed beside the walk
    try:
        if snapshot.phase == "walk" or options.rehash or not resumed:
            reporter.start("walk")
            walk_options = WalkOptions(
                options.excludes, options.rehash, _dir_ids(options.exclude_dirs), processes=options.jobs - 1
            )
            walker = Walker(rows, walk_options, reporter, early=early)
            walk_counts = walker.walk(path, root_name, src.root_dir)
            small, excluded = walker.small.counts, walker.excluded
            reporter.finish()
            snapshots.set_phase(cat, snap, "hash")

        hasher = Hasher(rows, path, options.jobs, cat.chunk_size, reporter, early)
        files, nbytes = rows.pending()
        reporter.start("hash", total_items=files, total_bytes=nbytes)
        counts = hasher.run()
        reporter.finish()
    finally:
        early.close()

    snapshots.complete(cat, snap)
    entries, nfiles, skipped = rows.summary()
    return ScanSummary(
        source=os.fsdecode(path),
        root_name=os.fsdecode(root_name),
        snapshot=snap,
        resumed=resumed,
        entries=entries,
        files=nfiles,
        unchanged=walk_counts.unchanged if walk_counts else 0,
        hashed_files=counts.files + (small.files if small else 0),
        hashed_bytes=counts.bytes + (small.bytes if small else 0),
        new_contents=counts.new_contents + (small.new_contents if small else 0),
        skipped=skipped,
        seconds=round(time.monotonic() - t0, 3),
        excluded=excluded,
    )


def _dir_ids(dirs: tuple[tuple[bytes, str], ...]) -> tuple[tuple[int, int, str], ...]:
    """(st_dev, st_ino, why) of the directories to leave out that exist."""
    out = []
    for path, why in dirs:
        try:
            st = os.stat(path)
        except OSError:
            continue
        out.append((st.st_dev, st.st_ino, why))
    return tuple(out)
