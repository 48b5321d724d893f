"""Writing sources and snapshots: the rows a scan (or an import, or a test fixture) starts and
ends with. Reading them is `Catalogue.sources()` / `snapshots()` / `latest_snapshot()`."""

from __future__ import annotations

import time

from odarchive.catalogue.catalogue import Catalogue, Source
from odarchive.catalogue.inserts import insert


def ensure_source(cat: Catalogue, root_name: bytes, path: bytes) -> Source:
    """The source named `root_name` (its path updated to `path`), created with its root
    directory node if new."""
    with cat.transaction() as conn:
        existing = cat.source_by_name(root_name)
        if existing:
            if existing.path != path:
                conn.execute("UPDATE sources SET path=? WHERE id=?", (path, existing.id))
            return cat.source_by_name(root_name)  # type: ignore[return-value]
        row = conn.execute("SELECT id FROM dirs WHERE parent_id=0 AND name=?", (root_name,)).fetchone()
        root_dir = (
            row[0] if row else conn.execute("INSERT INTO dirs (parent_id, name) VALUES (0, ?)", (root_name,)).lastrowid
        )
        conn.execute("INSERT INTO sources (root_name, path, root_dir) VALUES (?, ?, ?)", (root_name, path, root_dir))
    return cat.source_by_name(root_name)  # type: ignore[return-value]


def running_or_new(cat: Catalogue, source_id: int) -> tuple[int, bool]:
    """The running snapshot of this source to continue, or a new one: (id, resumed)."""
    with cat.transaction() as conn:
        row = conn.execute(
            "SELECT id FROM snapshots WHERE source_id=? AND state='running' ORDER BY id DESC LIMIT 1", (source_id,)
        ).fetchone()
        if row:
            return row[0], True
        snap = insert(
            conn,
            "INSERT INTO snapshots (source_id, started_ns, state, phase) VALUES (?, ?, 'running', 'walk')",
            (source_id, time.time_ns()),
        )
        return snap, False


def previous_complete(cat: Catalogue, source_id: int, snap: int) -> int | None:
    """The last complete snapshot of the source before `snap`."""
    return cat.conn.execute(
        "SELECT max(id) FROM snapshots WHERE source_id=? AND state='complete' AND id < ?", (source_id, snap)
    ).fetchone()[0]


def set_phase(cat: Catalogue, snap: int, phase: str) -> None:
    cat.conn.execute("UPDATE snapshots SET phase=? WHERE id=?", (phase, snap))


def complete(cat: Catalogue, snap: int) -> None:
    cat.conn.execute(
        "UPDATE snapshots SET state='complete', phase='done', finished_ns=? WHERE id=?", (time.time_ns(), snap)
    )
