"""Large catalogues made by SQL, for listing-speed tests and mount benchmarks (1M+ entries).

`synthetic_catalogue(path, files, per_dir)` creates a catalogue with one source (root
`big`) of `files` files spread over directories of `per_dir` files each (`big/d00000/f0000000`),
one complete snapshot, all files sharing one small content. Rows are streamed in, so memory
stays flat whatever `files` is. Paths: `synthetic_paths` yields them in the same order.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path
from typing import Iterator

from odarchive.catalogue import Catalogue

ROOT = b"big"
CONTENT = b"synthetic\n"
FILE_MODE = 0o100644
DIR_MODE = 0o040755


def _dir_name(d: int) -> bytes:
    return b"d%05d" % d


def _file_name(i: int) -> bytes:
    return b"f%07d" % i


def synthetic_paths(files: int, per_dir: int) -> Iterator[bytes]:
    for i in range(files):
        yield ROOT + b"/" + _dir_name(i // per_dir) + b"/" + _file_name(i)


def synthetic_catalogue(path: Path, files: int, per_dir: int = 1000, batch: int = 50_000) -> None:
    Catalogue.open(path, create=True).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    now = time.time_ns()
    ndirs = max(1, -(-files // per_dir))
    with db:
        db.execute("INSERT INTO contents (id, sha256, size) VALUES (1, ?, ?)", (hashlib.sha256(CONTENT).digest(), len(CONTENT)))
        db.execute("INSERT INTO sources (id, root_name, path, root_dir) VALUES (1, ?, ?, 1)", (ROOT, b"/synthetic/" + ROOT))
        db.execute("INSERT INTO snapshots (id, source_id, started_ns, finished_ns, state, phase) VALUES (1, 1, ?, ?, 'complete', 'done')", (now, now))
        db.execute("INSERT INTO dirs (id, parent_id, name) VALUES (1, 0, ?)", (ROOT,))
        db.executemany("INSERT INTO dirs (id, parent_id, name) VALUES (?, 1, ?)", ((d + 2, _dir_name(d)) for d in range(ndirs)))
        cols = "source_id, dir_id, name, kind, first_snap, last_snap, size, mtime_ns, mode, content_id"
        sql = f"INSERT INTO entries ({cols}) VALUES (1, ?, ?, ?, 1, NULL, ?, ?, ?, ?)"
        db.execute(sql, (0, ROOT, "d", 0, now, DIR_MODE, None))
        db.executemany(sql, ((1, _dir_name(d), "d", 0, now, DIR_MODE, None) for d in range(ndirs)))
    rows = ((i // per_dir + 2, _file_name(i), "f", len(CONTENT), now, FILE_MODE, 1) for i in range(files))
    while True:
        chunk = [r for _, r in zip(range(batch), rows)]
        if not chunk:
            break
        with db:
            db.executemany(sql, chunk)
    db.close()
