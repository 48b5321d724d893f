"""`odarchive rebuild IMAGE...`: recover the catalogue from disc images alone, into an empty home."""

from __future__ import annotations

import argparse
from pathlib import Path

from odarchive.app.context import Context
from odarchive.cli.render import make_reporter, print_json, say


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE", help="disc images (.iso) of the archive")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.rebuild import read_discs, rebuild

    discs = read_discs(args.images, make_reporter(args.json))  # every disc checked before the home is touched
    with ctx.open_catalogue(create=True) as cat:
        report = rebuild(cat, discs)
    if args.json:
        print_json(vars(report))
    else:
        say(
            f"rebuilt the catalogue in {ctx.home.root} from {len(report.discs)} disc(s):"
            f" {report.files} files, {report.contents} contents, {report.placements} placements"
        )
        for path in report.conflicts[:20]:
            say(f"left out {path}: discs disagree whether it is a file, a directory or a symlink")
        for disc in report.names_incomplete:
            say(
                f"disc {disc}: its catalogue could not hold every name of its contents (names added after"
                " planning); those names are missing"
            )
        say(f"restore with: odarchive --home {ctx.home.root} restore --to DIR --images {args.images[0].parent}")
    return 0
