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
        before = conn.execute("SELECT count(*) FROM disc_copies").fetchone()[0]
        for copy in range(1, n):
            conn.execute("INSERT OR IGNORE INTO disc_copies(disc_id, copy) SELECT id, ? FROM discs", (copy,))
        return conn.execute("SELECT count(*) FROM disc_copies").fetchone()[0] - before


def copies_of(cat: Catalogue, disc: int) -> list[DiscCopy]:
    """Every copy of `disc`, copy 0 first."""
    row = cat.conn.execute("SELECT label, state, slot, location, verified_ns FROM discs WHERE id=?", (disc,)).fetchone()
    if row is None:
        return []
    label = f"{row[0]}_{disc:04d}"
    out = [DiscCopy(disc, 0, label, row[1], row[2], row[3], row[4])]
    for copy, state, slot, location, verified_ns in cat.conn.execute(
        "SELECT copy, state, slot, location, verified_ns FROM disc_copies WHERE disc_id=? ORDER BY copy", (disc,)
    ):
        out.append(DiscCopy(disc, copy, label, state, slot, location, verified_ns))
    return out


def verified_copies_sql() -> str:
    """SQL: the number of verified copies of the disc `d.id` (alias d for discs)."""
    return (
        "((d.state = 'verified') + (SELECT count(*) FROM disc_copies c WHERE c.disc_id = d.id"
        " AND c.state = 'verified'))"
    )


def under_replicated(cat: Catalogue, n: int) -> dict[str, int]:
    """Placed contents on a disc with fewer than `n` verified copies: contents, bytes, files
    of the latest scans that have them, and the discs short of copies."""
    short = [r[0] for r in cat.conn.execute(f"SELECT d.id FROM discs d WHERE {verified_copies_sql()} < ?", (n,))]
    if not short:
        return {"copies_wanted": n, "contents": 0, "bytes": 0, "files": 0, "discs": 0}
    cat.conn.execute("CREATE TEMP TABLE IF NOT EXISTS short_contents (id INTEGER PRIMARY KEY)")
    cat.conn.execute("DELETE FROM short_contents")
    marks = ",".join("?" * len(short))
    cat.conn.execute(
        f"INSERT OR IGNORE INTO short_contents SELECT content_id FROM placements WHERE disc_id IN ({marks})", short
    )
    contents, size = cat.conn.execute(
        "SELECT count(*), coalesce(sum(size), 0) FROM contents WHERE id IN (SELECT id FROM short_contents)"
    ).fetchone()
    files = cat.conn.execute(
        "SELECT count(*) FROM entries WHERE kind='f' AND last_snap IS NULL"
        " AND content_id IN (SELECT id FROM short_contents)"
    ).fetchone()[0]
    return {"copies_wanted": n, "contents": contents, "bytes": size, "files": files, "discs": len(short)}


def offline_discs(cat: Catalogue) -> list[dict[str, object]]:
    """Burned copies out of the changer, with where a person keeps them (for status pages:
    "insert disc 17, shelf 3")."""
    rows = cat.conn.execute(
        "SELECT id, 0, location FROM discs WHERE state='verified' AND slot IS NULL UNION ALL"
        " SELECT disc_id, copy, location FROM disc_copies WHERE state='verified' AND slot IS NULL ORDER BY 1, 2"
    )
    return [
        {
            "disc": d,
            "copy": c,
            "set": set_name(c),
            "location": loc,
            "text": f"insert disc {d} (set {set_name(c)}): {loc or 'where it is kept was not recorded'}",
        }
        for d, c, loc in rows
    ]


def offline_discs_of(catalogue: Path) -> list[dict[str, object]]:
    """`offline_discs` of the catalogue at `catalogue` (opened read-only; none if it does not exist)."""
    if not catalogue.exists():
        return []
    with Catalogue.open(catalogue, readonly=True) as cat:
        return offline_discs(cat)
