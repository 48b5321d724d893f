"""How `odarchive status` describes a running mount, from the mount's status record.

The record (written by `odarchive mount`, see `fuse_mount.service.ArchiveService.status`)
holds `waiting_by_disc`, `source.drives` (disc and activity of each drive), `disc_loads`,
`disc_failures`, `open_files` and `cache` (fill and hit ratio).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from odarchive.units import format_size

if TYPE_CHECKING:
    from odarchive.jobs import JobRecord


def describe_mount(r: JobRecord) -> str:
    head = f"{r['job']} (mount, pid {r.get('pid')}): {r.get('mountpoint', '?')} {r.get('phase', '')}"
    waiting = r.get("waiting_by_disc") or {}
    wait = ", ".join(f"disc {d}: {n}" for d, n in sorted(waiting.items(), key=lambda kv: int(kv[0]))) or "none"
    source = r.get("source") or {}
    drives = "; ".join(
        f"drive {d['drive']}: {d.get('activity', 'idle')}"
        + (f", holds disc {d['disc']}" if d.get("disc") is not None else "")
        + (f", FAULT {d['fault']}" if d.get("fault") else "")
        for d in source.get("drives", [])
    )
    cache = r.get("cache") or {}
    limit = f" of {format_size(cache['max_bytes'])}" if cache.get("max_bytes") else ""
    return (
        f"{head}\n  requests waiting by disc: {wait}\n  {source.get('kind', 'discs')}: {drives or 'no drives'}"
        f" ({r.get('disc_loads', 0)} disc loads, {r.get('disc_failures', 0)} failures)\n"
        f"  cache {r.get('cache_dir', '?')}: {format_size(cache.get('bytes_cached', 0))}{limit} used,"
        f" {format_size(cache.get('free_bytes', 0))} free,"
        f" hit ratio {cache.get('hit_ratio', 0):.2f}; {r.get('open_files', 0)} files open"
    )
