"""`odarchive plan_iso SIZE [--replan] [--json]`: plan unplaced content onto new discs.

Each new disc gets the error correction of `[archive] ecc` (`--ecc`), planned so that the
image with its ECC fits SIZE.
"""

from __future__ import annotations

import argparse

from odarchive.app.context import Context
from odarchive.cli.render import make_reporter, print_json, say
from odarchive.options import add_flags, flag_values
from odarchive.units import SIZE_HELP, format_size


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "size", metavar="SIZE", help=f"medium: cd, dvd, dvd-dl, bluray|bd, bd-dl, bd-xl, bd-xx, or bytes ({SIZE_HELP})"
    )
    p.add_argument("--replan", action="store_true", help="drop discs that are planned but not written, and plan again")
    add_flags(p, "plan", "archive")  # --label, --ecc, --copies (odarchive.options)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.archive_config import ArchiveConfig
    from odarchive.copies import check_copies, plan_copies
    from odarchive.ecc.setting import redundancy_percent, roots_for
    from odarchive.plan.media import parse_size
    from odarchive.plan.planner import PlanConfig, plan

    capacity = parse_size(args.size)
    config = ctx.settings.build(PlanConfig, "plan", **flag_values(args, "plan"))
    archive = ctx.settings.build(ArchiveConfig, "archive", **flag_values(args, "archive"))
    roots = roots_for(archive.ecc)
    copies = check_copies(archive.copies)
    with ctx.open_catalogue() as cat:
        discs = plan(cat, capacity, config, replan=args.replan, reporter=make_reporter(args.json), ecc_roots=roots)
        new_copies = plan_copies(cat, copies)
    result = {
        "capacity_bytes": capacity,
        "copies": copies,
        "new_copies": new_copies,
        "ecc": {"roots": roots, "redundancy_percent": redundancy_percent(roots)} if roots else None,
        "new_discs": [vars(d) | {"fill": round(d.used_bytes / d.capacity_bytes, 4)} for d in discs],
    }
    if args.json:
        print_json(result)
        return 0
    if not discs:
        say("nothing to plan: every content is already on a planned disc")
    if new_copies:
        say(f"planned {new_copies} more disc(s) to burn as copies (sets B..): `robot burn --copy K` burns set K")
    for d in discs:
        say(
            f"disc {d.disc_id:4d}: {d.files} files, {format_size(d.data_bytes)} data,"
            f" {format_size(d.used_bytes)} of {format_size(d.capacity_bytes)} ({100 * d.used_bytes / d.capacity_bytes:.2f}%)"
        )
    return 0
