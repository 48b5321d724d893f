"""Numbers about the catalogue for `get_info`: per source and over the latest snapshots."""

from __future__ import annotations

import os
from typing import Any

from odarchive.catalogue.catalogue import Catalogue, valid_in


def latest_condition(cat: Catalogue) -> str:
    """A WHERE condition on `entries` selecting the latest complete snapshot of every source."""
    parts: list[str] = []
    for src, snap in cat.latest_snapshots():
        parts.append(f"(source_id={src.id} AND {valid_in(str(snap.id))})")
    return ("(" + " OR ".join(parts) + ")") if parts else "0"


def catalogue_summary(cat: Catalogue) -> dict[str, Any]:
    conn = cat.conn
    sources = []
    for src in cat.sources():
        snap = cat.latest_snapshot(src.id)
        running = cat.latest_snapshot(src.id, complete=False)
        item: dict[str, Any] = {
            "name": os.fsdecode(src.root_name),
            "path": os.fsdecode(src.path),
            "snapshot": snap.id if snap else None,
            "scanned_ns": snap.finished_ns if snap else None,
            "unfinished_scan": running.id if running and running.state == "running" else None,
        }
        if snap:
            item.update(_snapshot_counts(cat, src.id, snap.id))
        sources.append(item)
    cond = latest_condition(cat)
    files, nbytes, dirs, links = conn.execute(
        f"SELECT coalesce(sum(kind='f'),0), coalesce(sum(CASE WHEN kind='f' THEN size END),0),"
        f" coalesce(sum(kind='d'),0), coalesce(sum(kind='l'),0) FROM entries WHERE {cond}"
    ).fetchone()
    contents, unique_bytes = conn.execute(
        f"SELECT count(*), coalesce(sum(size),0) FROM contents WHERE id IN"
        f" (SELECT content_id FROM entries WHERE kind='f' AND {cond})"
    ).fetchone()
    skipped = sum(s.get("skipped", 0) for s in sources)
    return {
        "home": str(cat.path.parent),
        "sources": sources,
        "snapshots": conn.execute("SELECT count(*) FROM snapshots").fetchone()[0],
        "files": files,
        "directories": dirs,
        "symlinks": links,
        "bytes": nbytes,
        "contents": contents,
        "unique_bytes": unique_bytes,
        "skipped": skipped,
        "all_contents": conn.execute("SELECT count(*) FROM contents").fetchone()[0],
        "burned": conn.execute("SELECT count(*) FROM discs WHERE state='verified'").fetchone()[0],  # robot burn
    }


def _snapshot_counts(cat: Catalogue, source_id: int, snap: int) -> dict[str, int]:
    files, nbytes, dirs, links = cat.conn.execute(
        "SELECT coalesce(sum(kind='f'),0), coalesce(sum(CASE WHEN kind='f' THEN size END),0),"
        " coalesce(sum(kind='d'),0), coalesce(sum(kind='l'),0)"
        f" FROM entries WHERE source_id=? AND {valid_in('?')}",
        (source_id, snap, snap),
    ).fetchone()
    skipped = cat.conn.execute("SELECT count(*) FROM skipped WHERE snapshot_id=?", (snap,)).fetchone()[0]
    return {"files": files, "bytes": nbytes, "directories": dirs, "symlinks": links, "skipped": skipped}


def skipped_entries(cat: Catalogue, snap: int) -> list[dict[str, str]]:
    from odarchive.catalogue.tree import dir_path

    out = []
    for dir_id, name, reason in cat.conn.execute(
        "SELECT dir_id, name, reason FROM skipped WHERE snapshot_id=? ORDER BY dir_id, name", (snap,)
    ):
        base = dir_path(cat, dir_id)
        path = base if name == b"." else base + b"/" + name
        out.append({"path": os.fsdecode(path), "reason": reason})
    return out
