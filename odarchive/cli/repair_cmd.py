"""`odarchive repair IMAGE... [--json]`: repair damaged images with their error correction."""

from __future__ import annotations

import argparse
from pathlib import Path

from odarchive.app.context import Context
from odarchive.cli.render import print_json, say
from odarchive.errors import CheckFailed


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", metavar="IMAGE", nargs="+", type=Path, help="disc image(s) to repair in place")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.catalogue import Catalogue
    from odarchive.ecc.repair import repair_image

    cat = Catalogue.open(ctx.home.catalogue, readonly=True) if ctx.home.catalogue.exists() else None
    try:
        reports = [repair_image(p, cat) for p in args.images]
    finally:
        if cat is not None:
            cat.close()
    if args.json:
        print_json({"ok": all(r.ok for r in reports), "images": [vars(r) for r in reports]})
    else:
        for r in reports:
            state = "OK" if r.ok else "FAILED"
            same = {True: ", identical to the planned image", False: "", None: ""}[r.matches_record]
            say(f"{r.image}: {state} ({r.repaired_sectors} sector(s) repaired{same})")
            for problem in r.problems:
                say(f"  {problem}")
    bad = [r for r in reports if not r.ok]
    if bad:
        raise CheckFailed(
            f"{len(bad)} of {len(reports)} image(s) could not be repaired",
            hint="see the problems above; burn a replacement from another copy (`robot burn --replace N`)",
        )
    return 0
