"""Each burned disc's health history: what `odarchive scrub` found when it read a disc back.

One `disc_health` row per read-back of one copy (copy 0: the disc itself; 1..: its copies
in sets B, C, ...): when, the result, sectors the error correction repaired, sectors that
could not be read, and the read speed. A disc needs attention when its latest read-back did
not give the planned image (`failed`, `unreadable`) or needed the error correction
(`corrected`: still whole, but decaying); `robot burn --replace N` burns a new one.
"""

from __future__ import annotations

from dataclasses import dataclass

from odarchive.catalogue import Catalogue
from odarchive.catalogue import health as health_rows
from odarchive.copies import set_name

ATTENTION = ("corrected", "failed", "unreadable")


@dataclass(frozen=True)
class BurnedCopy:
    """A burned, verified copy of a disc that a scrub can read back."""

    disc: int
    copy: int
    label: str
    slot: int | None
    location: str | None
    image_size: int
    image_sha256: bytes
    last_checked_ns: int  # the later of its burn verification and its last scrub


def burned_copies(cat: Catalogue, discs: list[int], older_than_ns: int | None = None) -> list[BurnedCopy]:
    """Verified copies of `discs` not checked since `older_than_ns` (None: every one)."""
    wanted = set(discs)
    out = []
    for disc, copy, label, slot, location, size, sha, verified_ns in health_rows.verified_copies(cat.conn):
        if disc not in wanted or size is None or sha is None:
            continue
        last = health_rows.last_read_back(cat.conn, disc, copy)
        checked = max(verified_ns or 0, last[0] if last else 0)
        if older_than_ns is None or checked < older_than_ns:
            out.append(BurnedCopy(disc, copy, f"{label}_{disc:04d}", slot, location, size, bytes(sha), checked))
    return out


def record(
    cat: Catalogue,
    disc: int,
    copy: int,
    result: str,
    *,
    corrected: int = 0,
    unreadable: int = 0,
    read_bytes_per_s: float | None = None,
    detail: str | None = None,
) -> None:
    with cat.transaction() as conn:
        health_rows.add(conn, disc, copy, result, corrected, unreadable, read_bytes_per_s, detail)


def history(cat: Catalogue, disc: int | None = None) -> list[dict[str, object]]:
    return [
        {
            "disc": r[0],
            "copy": r[1],
            "set": set_name(r[1]),
            "at_ns": r[2],
            "result": r[3],
            "corrected_sectors": r[4],
            "unreadable_sectors": r[5],
            "read_bytes_per_s": r[6],
            "detail": r[7],
        }
        for r in health_rows.rows(cat.conn, disc)
    ]


def needing_attention(cat: Catalogue) -> list[dict[str, object]]:
    """The latest read-back of every copy whose result asks for a replacement."""
    latest: dict[tuple[int, int], dict[str, object]] = {}
    for h in history(cat):
        latest[(h["disc"], h["copy"])] = h  # type: ignore[index]
    return [h for h in latest.values() if h["result"] in ATTENTION]
