"""`odarchive verify --discs SEL`: check burned discs themselves, read through the robot.

Each disc chosen is read whole through the archive service (a read lease for any of its
copies, in disc order, each disc loaded once: `odarchive.app.leased_read`), and the SHA-256
of what was read is compared with the one recorded when its image was written: equal means
every byte, hence every file, is right. Nothing is recorded (`odarchive scrub` records each
copy's health and tries its error correction). `odarchive verify IMAGE...` checks image
files instead and needs no service.
"""

from __future__ import annotations

from typing import Any

from odarchive.app.context import Context
from odarchive.selection import parse_disc_selection


def verify_discs(ctx: Context, client: Any, spec: str, reporter: Any) -> list[dict[str, Any]]:
    """One result per disc: {disc, ok, unreadable_sectors, read_bytes_per_s, detail}."""
    from odarchive.app.leased_read import leased_disc
    from odarchive.app.robot_config import robot_config
    from odarchive.app.scrub import read_back
    from odarchive.app.service.client import ServiceError
    from odarchive.catalogue import discs as disc_rows
    from odarchive.copies import copies_of
    from odarchive.planned_image import planned_image

    xorriso = robot_config(ctx).xorriso
    with ctx.open_catalogue(readonly=True) as cat:
        known = disc_rows.ids(cat.conn)
        discs = parse_disc_selection(spec, known, what="--discs")
        plans = {d: planned_image(cat, d) for d in discs}
        burned = {d for d in discs if any(c.state == "verified" for c in copies_of(cat, d))}
    todo = [d for d in discs if d in burned and plans[d].size is not None]
    reporter.start("verify", total_items=len(todo), total_bytes=sum(plans[d].size or 0 for d in todo))
    results = []
    try:
        for disc in discs:
            planned = plans[disc]
            if disc not in todo:
                results.append(
                    {
                        "disc": disc,
                        "ok": False,
                        "unreadable_sectors": None,
                        "read_bytes_per_s": None,
                        "detail": "not burned yet: nothing to read (`odarchive robot burn`)",
                    }
                )
                continue
            reporter.event("verifying", disc=disc)
            try:
                with leased_disc(client, disc, "verify", xorriso=xorriso) as dev:
                    sha, bad, rate = read_back(dev, planned.size or 0)  # (in todo: the size is recorded)
            except ServiceError as e:  # no copy could be loaded and read: this disc fails, the others go on
                results.append(
                    {
                        "disc": disc,
                        "ok": False,
                        "unreadable_sectors": None,
                        "read_bytes_per_s": None,
                        "detail": e.message,
                    }
                )
                continue
            ok = sha == planned.sha256
            results.append(
                {
                    "disc": disc,
                    "ok": ok,
                    "unreadable_sectors": bad,
                    "read_bytes_per_s": round(rate),
                    "detail": None
                    if ok
                    else f"what the disc holds differs from its recorded image ({bad} unreadable sector(s))",
                }
            )
            reporter.advance(items=1, nbytes=planned.size)
    finally:
        reporter.finish()
    return results
