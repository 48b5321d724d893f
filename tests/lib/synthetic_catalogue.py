"""Large catalogues made through the catalogue's own writing API, for listing-speed tests, the
catalogue-size test and mount benchmarks (1M+ entries).

`synthetic_catalogue(path, files, per_dir)` creates a catalogue with one source (root
`big`) of `files` files spread over directories of `per_dir` files each (`big/d00000/f0000000`),
one complete snapshot, all files sharing one small content (or, with `distinct`, each file its
own content, as a tree of unique files has). Rows are streamed in, so memory stays flat
whatever `files` is. Paths: `synthetic_paths` yields them in the same order.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

from odarchive.catalogue import Catalogue, contents, snapshots
from odarchive.catalogue.scanning import ScanRows

ROOT = b"big"
CONTENT = b"synthetic\n"
FILE_MODE = 0o100644
DIR_MODE = 0o040755
CONTENT_BATCH = 50_000


def _dir_name(d: int) -> bytes:
    return b"d%05d" % d


def _file_name(i: int) -> bytes:
    return b"f%07d" % i


def synthetic_paths(files: int, per_dir: int) -> Iterator[bytes]:
    for i in range(files):
        yield ROOT + b"/" + _dir_name(i // per_dir) + b"/" + _file_name(i)


def synthetic_catalogue(path: Path, files: int, per_dir: int = 1000, distinct: bool = False) -> None:
    now = time.time_ns()
    ndirs = max(1, -(-files // per_dir))
    with Catalogue.open(path, create=True) as cat:
        src = snapshots.ensure_source(cat, ROOT, b"/synthetic/" + ROOT)
        snap, _ = snapshots.running_or_new(cat, src.id)
        rows = ScanRows(cat.conn, src.id, snap, None)
        with cat.transaction():
            dir_meta = (0, now, DIR_MODE, 0, None, None, None)
            rows.insert(0, [(ROOT, dir_meta, None, None)])
            nodes = [rows.new_dir(src.root_dir, _dir_name(d)) for d in range(ndirs)]
            rows.insert(src.root_dir, [(_dir_name(d), dir_meta, None, None) for d in range(ndirs)])
            shared = contents.ids_for(cat.conn, [(hashlib.sha256(CONTENT).digest(), len(CONTENT))])[0][0]
        for start in range(0, files, CONTENT_BATCH):
            batch = range(start, min(files, start + CONTENT_BATCH))
            meta = (len(CONTENT), now, FILE_MODE, 0, None, None, None)
            with cat.transaction():
                if distinct:  # as a scan writes files hashed before their rows
                    rows.insert_hashed(
                        [(nodes[i // per_dir], _file_name(i), meta, None) for i in batch],
                        [(hashlib.sha256(b"%d" % i).digest(), len(CONTENT)) for i in batch],
                    )
                else:
                    rows.insert_stream((nodes[i // per_dir], _file_name(i), meta, None, shared) for i in batch)
        snapshots.complete(cat, snap)
