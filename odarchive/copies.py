"""Copies of discs: N discs burned from each planned image, one set per copy number.

A disc's image is planned once; `copies = N` (`[archive] copies`, `plan_iso --copies N`)
asks for N physical discs of it. Copy 0 (set A) is the discs row itself; copies 1..N-1 (sets
B, C, ...) are rows of `disc_copies`, added by `plan_copies` for every planned disc that has
fewer. Each set holds every content once, so a whole set can live off-site. All copies of a
disc carry the same image, hence the same volume label (ODARCHIVE_0017): what tells them
apart is the set letter on the disc's case ("ODARCHIVE_0017 B") and the catalogue's record
of which slot or place holds which copy.

A content is under-replicated when one of the discs holding it (or a piece of it) has fewer
than N verified copies.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

from odarchive.catalogue import Catalogue
from odarchive.catalogue import copies as copy_rows
from odarchive.errors import InputError

MAX_COPIES = len(string.ascii_uppercase)


@dataclass(frozen=True)
class DiscCopy:
    disc: int
    copy: int
    label: str  # the volume label, the same on every copy
    state: str  # planned | written | burned | verified
    slot: int | None
    location: str | None
    verified_ns: int | None

    @property
    def set_name(self) -> str:
        return set_name(self.copy)


def set_name(copy: int) -> str:
    """Copy 0 is set A, copy 1 set B, ..."""
    return string.ascii_uppercase[copy]


def check_copies(n: int) -> int:
    if not 1 <= n <= MAX_COPIES:
        raise InputError(
            f"copies = {n}: an archive has 1 to {MAX_COPIES} copies of each disc",
            hint="set [archive] copies (default 1) or plan_iso --copies N",
        )
    return n


def plan_copies(cat: Catalogue, n: int) -> int:
    """Add the missing copy rows so every disc has `n` copies; returns how many were added."""
    check_copies(n)
    with cat.transaction() as conn:
        return copy_rows.add_sets(conn, n)


def copies_of(cat: Catalogue, disc: int) -> list[DiscCopy]:
    """Every copy of `disc`, copy 0 first."""
    found = copy_rows.of_disc(cat.conn, disc)
    if found is None:
        return []
    plan_label, rows = found
    label = f"{plan_label}_{disc:04d}"
    return [
        DiscCopy(disc, copy, label, state, slot, location, verified_ns)
        for copy, state, slot, location, verified_ns in rows
    ]


def under_replicated(cat: Catalogue, n: int) -> dict[str, int]:
    """Placed contents on a disc with fewer than `n` verified copies: contents, bytes, files
    of the latest scans that have them, and the discs short of copies."""
    short = copy_rows.short_of(cat.conn, n)
    if not short:
        return {"copies_wanted": n, "contents": 0, "bytes": 0, "files": 0, "discs": 0}
    contents, size, files = copy_rows.held_by(cat.conn, short)
    return {"copies_wanted": n, "contents": contents, "bytes": size, "files": files, "discs": len(short)}


def offline_discs(cat: Catalogue) -> list[dict[str, object]]:
    """Burned copies out of the changer, with where a person keeps them (for status pages:
    "insert disc 17, shelf 3")."""
    return [
        {
            "disc": d,
            "copy": c,
            "set": set_name(c),
            "location": loc,
            "text": f"insert disc {d} (set {set_name(c)}): {loc or 'where it is kept was not recorded'}",
        }
        for d, c, loc in copy_rows.offline(cat.conn)
    ]


def offline_discs_of(catalogue: Path) -> list[dict[str, object]]:
    """`offline_discs` of the catalogue at `catalogue` (opened read-only; none if it does not exist)."""
    if not catalogue.exists():
        return []
    with Catalogue.open(catalogue, readonly=True) as cat:
        return offline_discs(cat)
