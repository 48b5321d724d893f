"""The seed's catalogue.json (version 1): export from and import into the catalogue.

Format: `{"version": 1, "files": {SHA256HEX: {"filenames": {PATH: null, ...}, "size": N,
"mtime": SECONDS}}}`. PATH is the archived path, root name first (`photos/2019/a.jpg`).
Names that are not UTF-8 are written with Python's surrogate escapes (`\\udcXX`) and read
back byte-exact. Version 1 has no directories or symlinks: export writes files only, import
creates the directories that the paths imply.

Export streams (rows in content order, written as they come; each entry's size and mtime
before its names, so that an import can write the names as it reads them). Import is
`odarchive.catalogue.seedimport`; `path_problem` and `TreeBuilder` serve it and rebuild.
"""

from __future__ import annotations

import json
import os
import stat
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

from odarchive.catalogue import entryrows
from odarchive.catalogue.catalogue import Catalogue
from odarchive.catalogue.summary import latest_condition
from odarchive.catalogue.tree import dir_path
from odarchive.catalogue.versions import close_subtree
from odarchive.errors import InputError

MAX_NAME = 255
MAX_PATH = 4096
FILE_MODE = stat.S_IFREG | 0o644
DIR_MODE = stat.S_IFDIR | 0o755


def export_json(cat: Catalogue, out: TextIO) -> int:
    """Write the latest snapshot of every source as catalogue.json; returns the contents written."""
    cond = latest_condition(cat)
    path_of = lru_cache(maxsize=4096)(lambda d: dir_path(cat, d))
    out.write('{"version": 1, "files": {')
    current: int | None = None
    head: dict[str, Any] = {}
    names: list[str] = []
    count = 0

    def flush() -> None:
        nonlocal count
        if current is None:
            return
        body = {**head, "filenames": {n: None for n in names}}
        out.write(("," if count else "") + "\n  " + json.dumps(head_key) + ": " + json.dumps(body))
        count += 1

    head_key = ""
    for content_id, sha, size, dir_id, name, mtime_ns in cat.conn.execute(
        # contents in id order, each with its names (the entry with its id, then the index of
        # further names): no sort of every file (that took 120 MB at a million files)
        "SELECT c.id, c.sha256, c.size, e.dir_id, e.name, e.mtime_ns FROM contents c CROSS JOIN entries e"
        f" ON {entryrows.names_of('c.id', 'e')} WHERE e.kind='f' AND {cond} ORDER BY c.id"
    ):
        if content_id != current:
            flush()
            current, head_key, names = content_id, sha.hex(), []
            head = {"size": size, "mtime": mtime_ns / 1e9}
        head["mtime"] = max(head["mtime"], mtime_ns / 1e9)
        names.append(os.fsdecode(path_of(dir_id) + b"/" + name))
    flush()
    out.write("\n}}\n")
    return count


def export_json_file(cat: Catalogue, path: Path) -> int:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        n = export_json(cat, f)
    os.replace(tmp, path)
    return n


def path_problem(name: Any) -> str | None:
    if not isinstance(name, str):
        return "not a string"
    if "\0" in name:
        return "contains NUL"
    if name.startswith("/"):
        return "absolute path"
    raw = os.fsencode(name)
    parts = raw.split(b"/")
    if any(p in (b"", b".", b"..") for p in parts):
        return "empty, '.' or '..' component"
    if len(parts) < 2:
        return "needs a root name and a file name (root/file)"
    if any(len(p) > MAX_NAME for p in parts) or len(raw) > MAX_PATH:
        return f"name over {MAX_NAME} bytes or path over {MAX_PATH} bytes"
    return None


def _with_type(kind: str, mode: int) -> int:
    """`mode` with the file type bits of `kind` (entries compute their kind from them)."""
    return (mode & 0o7777) | {"f": stat.S_IFREG, "d": stat.S_IFDIR, "l": stat.S_IFLNK}[kind]


class TreeBuilder:
    """Writes entries given by path as one new complete snapshot per root name (import, rebuild).

    Directories that paths imply are created with default mode; `add_dir` sets a directory's
    own mode and mtime whether it was implied before or not.
    """

    DIRS_CACHED = 100_000  # directory nodes remembered (memory bounded whatever the import's size)

    def __init__(self, conn: Any, now: int) -> None:
        self.conn = conn
        self.now = now
        self.snapshots: dict[bytes, tuple[int, int]] = {}  # root -> (source_id, snap)
        self.dirs: dict[tuple[int, bytes], int] = {}

    def _root(self, root: bytes) -> tuple[int, int, int]:
        if root not in self.snapshots:
            row = self.conn.execute("SELECT id, root_dir FROM sources WHERE root_name=?", (root,)).fetchone()
            if row is None:
                node = self._node(0, root, None)
                sid = self.conn.execute(
                    "INSERT INTO sources (root_name, path, root_dir) VALUES (?, ?, ?)", (root, b"", node)
                ).lastrowid
            else:
                sid, node = row
                self._close_open_rows(sid)
            snap = self.conn.execute(
                "INSERT INTO snapshots (source_id, started_ns, state, phase) VALUES (?, ?, 'running', 'import')",
                (sid, self.now),
            ).lastrowid
            self.snapshots[root] = (sid, snap)
            self._entry(sid, snap, 0, root, "d", 0, DIR_MODE, None)
        sid, snap = self.snapshots[root]
        return sid, snap, self._node(0, root, None)

    def _close_open_rows(self, source_id: int) -> None:
        """The import becomes the source's latest snapshot: what the last scan saw ends there."""
        if self.conn.execute("SELECT 1 FROM snapshots WHERE source_id=? AND state='running'", (source_id,)).fetchone():
            raise InputError(
                "a scan of this source is unfinished; nothing imported",
                hint="run create_db on the source again to finish it first",
            )
        prev = self.conn.execute(
            "SELECT max(id) FROM snapshots WHERE source_id=? AND state='complete'", (source_id,)
        ).fetchone()[0]
        root_dir = self.conn.execute("SELECT root_dir FROM sources WHERE id=?", (source_id,)).fetchone()[0]
        close_subtree(self.conn, root_dir, 0, prev)
        self.conn.execute(
            f"UPDATE entries SET {entryrows.CLOSE} WHERE source_id=? AND dir_id=0 AND last_snap IS NULL",
            (prev, source_id),
        )

    def _node(self, parent: int, name: bytes, entry: tuple[int, int] | None) -> int:
        key = (parent, name)
        if key not in self.dirs:
            if len(self.dirs) >= self.DIRS_CACHED:
                self.dirs.clear()
            row = self.conn.execute("SELECT id FROM dirs WHERE parent_id=? AND name=?", key).fetchone()
            self.dirs[key] = (
                row[0] if row else self.conn.execute("INSERT INTO dirs (parent_id, name) VALUES (?, ?)", key).lastrowid
            )
            if entry is not None and self._kind(parent, name, entry[1]) != "d":  # "d": met before the cache was cleared
                self._entry(entry[0], entry[1], parent, name, "d", 0, DIR_MODE, None)
        return self.dirs[key]

    def _kind(self, dir_id: int, name: bytes, snap: int) -> str | None:
        row = self.conn.execute(
            "SELECT kind FROM entries WHERE dir_id=? AND name=? AND first_snap=?", (dir_id, name, snap)
        ).fetchone()
        return row[0] if row else None

    def _entry(
        self,
        sid: int,
        snap: int,
        dir_id: int,
        name: bytes,
        kind: str,
        size: int,
        mode: int,
        content: int | None,
        mtime_ns: int | None = None,
        target: bytes | None = None,
    ) -> None:
        if self.conn.execute(
            "SELECT 1 FROM entries WHERE dir_id=? AND name=? AND first_snap=?", (dir_id, name, snap)
        ).fetchone():
            raise InputError(f"{os.fsdecode(name)!r} is both a file and a directory; nothing imported")
        row = (sid, dir_id, name, snap, size, mtime_ns or self.now, _with_type(kind, mode), None, None, None, target)
        entryrows.insert(self.conn, entryrows.numbered(self.conn, [(*row, None, content)]))

    def _parent(self, path: bytes) -> tuple[int, int, int, bytes]:
        """(source id, snapshot, directory node, name) for `path`, creating implied directories."""
        root, *middle, name = path.split(b"/")
        sid, snap, node = self._root(root)
        for part in middle:
            node = self._node(node, part, (sid, snap))
        return sid, snap, node, name

    def add_file(self, path: bytes, size: int, mtime_ns: int, content: int | None, mode: int = FILE_MODE) -> None:
        sid, snap, node, name = self._parent(path)
        self._entry(sid, snap, node, name, "f", size, mode, content, mtime_ns)

    def add_symlink(self, path: bytes, target: bytes, mode: int, mtime_ns: int) -> None:
        sid, snap, node, name = self._parent(path)
        self._entry(sid, snap, node, name, "l", len(target), mode, None, mtime_ns, target)

    def add_dir(self, path: bytes, mode: int, mtime_ns: int) -> None:
        if b"/" in path:
            sid, snap, node, name = self._parent(path)
            self._node(node, name, (sid, snap))
        else:
            sid, snap, _ = self._root(path)
            node, name = 0, path
        n = self.conn.execute(
            f"UPDATE entries SET {entryrows.SET_MODE}, mtime_ns=:mtime WHERE dir_id=:dir AND name=:name"
            " AND first_snap=:snap AND kind='d'",
            {"mode": mode, "mtime": mtime_ns, "dir": node, "name": name, "snap": snap},
        ).rowcount
        if not n:
            raise InputError(f"{os.fsdecode(path)!r} is both a file and a directory; nothing imported")

    def complete(self) -> None:
        for _, snap in self.snapshots.values():
            self.conn.execute(
                "UPDATE snapshots SET state='complete', phase='done', finished_ns=? WHERE id=?", (time.time_ns(), snap)
            )
