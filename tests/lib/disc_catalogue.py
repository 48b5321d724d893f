"""A tiny stand-in scanner for disc tests: puts a directory tree into a catalogue with SQL.

It fills sources/snapshots/dirs/entries/contents the way `create_db` does (one complete
snapshot per call), so planner and image tests do not depend on the scanner's speed.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from odarchive.catalogue import Catalogue


def _sha(path: bytes) -> bytes:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.digest()


def add_tree(cat: Catalogue, src: Path | bytes, root_name: bytes | None = None,
             hashes: dict[bytes, bytes] | None = None) -> int:
    """Catalogue `src` as a new complete snapshot; returns the snapshot id.

    `hashes` maps a relative path to a precomputed SHA-256 (for huge sparse files)."""
    src_b = os.fsencode(os.path.abspath(src))
    root = root_name or os.path.basename(src_b)
    conn = cat.conn
    conn.execute("BEGIN")
    row = conn.execute("SELECT id, root_dir FROM sources WHERE root_name=?", (root,)).fetchone()
    if row is None:
        conn.execute("INSERT OR IGNORE INTO dirs(parent_id, name) VALUES (0, ?)", (root,))
        root_dir = conn.execute("SELECT id FROM dirs WHERE parent_id=0 AND name=?", (root,)).fetchone()[0]
        source_id = conn.execute("INSERT INTO sources(root_name, path, root_dir) VALUES (?,?,?)",
                                 (root, src_b, root_dir)).lastrowid
    else:
        source_id, root_dir = row
    snap = conn.execute("INSERT INTO snapshots(source_id, started_ns, finished_ns, state, phase) VALUES (?,?,?,?,?)",
                        (source_id, time.time_ns(), time.time_ns(), "complete", "done")).lastrowid

    def entry(dir_id: int, name: bytes, st: os.stat_result, kind: str, content_id: int | None, target: bytes | None) -> None:
        conn.execute(
            "INSERT INTO entries(source_id, dir_id, name, kind, first_snap, last_snap, size, mtime_ns, mode, ino, content_id, target)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (source_id, dir_id, name, kind, snap, snap, st.st_size if kind != "d" else 0, st.st_mtime_ns, st.st_mode, st.st_ino,
             content_id, target),
        )

    entry(0, root, os.stat(src_b), "d", None, None)
    stack = [(src_b, root_dir, b"")]
    while stack:
        path, dir_id, rel = stack.pop()
        for de in os.scandir(path):
            st = de.stat(follow_symlinks=False)
            name = de.name if isinstance(de.name, bytes) else os.fsencode(de.name)
            child_rel = rel + b"/" + name if rel else name
            if de.is_symlink():
                entry(dir_id, name, st, "l", None, os.readlink(de.path))
            elif de.is_dir(follow_symlinks=False):
                entry(dir_id, name, st, "d", None, None)
                conn.execute("INSERT OR IGNORE INTO dirs(parent_id, name) VALUES (?, ?)", (dir_id, name))
                sub = conn.execute("SELECT id FROM dirs WHERE parent_id=? AND name=?", (dir_id, name)).fetchone()[0]
                stack.append((os.fsencode(de.path), sub, child_rel))
            else:
                sha = (hashes or {}).get(child_rel) or _sha(os.fsencode(de.path))
                conn.execute("INSERT OR IGNORE INTO contents(sha256, size) VALUES (?,?)", (sha, st.st_size))
                cid = conn.execute("SELECT id FROM contents WHERE sha256=?", (sha,)).fetchone()[0]
                entry(dir_id, name, st, "f", cid, None)
    conn.execute("COMMIT")
    return snap
