"""`odarchive create_iso N|A-B|all [--out DIR] [--force] [--json]`: write disc images.

An image that exists already and is exactly the planned one (its recorded size and SHA-256,
`odarchive.planned_image`) is kept unless `--force`; any other file under its name is
rewritten.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from odarchive.app.context import Context
from odarchive.cli.render import make_reporter, print_json, say
from odarchive.errors import UsageError
from odarchive.jobs import JobReporter, exclusive
from odarchive.selection import parse_disc_selection


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "discs",
        metavar="N|A-B|all",
        nargs="?",
        default="0",
        help="disc number(s) to write: N, A-B, 3,5,9-12 or all (default 0)",
    )
    p.add_argument("--out", help="output directory (default <home>/isos)")
    p.add_argument("--force", action="store_true", help="rewrite images that exist already")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.iso.build import build_disc_image
    from odarchive.plan.summary import disc_count
    from odarchive.planned_image import intact_image

    out = Path(args.out) if args.out else ctx.home.isos
    written = []
    with (
        ctx.open_catalogue() as cat,
        exclusive(ctx.home.jobs, "create_iso", "an image build (create_iso or robot burn)"),
    ):
        discs = parse_disc_selection(args.discs, range(disc_count(cat)))
        if not discs:
            raise UsageError("no discs are planned", hint="run `odarchive plan_iso SIZE` first")
        reporter = JobReporter(ctx.home.jobs, "create_iso", "create_iso", make_reporter(args.json), discs=args.discs)
        for disc in discs:
            reporter.update(disc=disc)
            existing = intact_image(cat, disc, out)
            if existing is not None and not args.force:
                written.append({"disc": disc, "image": str(existing), "size": existing.stat().st_size, "skipped": True})
                if not args.json:
                    say(f"disc {disc}: {existing} (exists, the planned image; --force rewrites it)")
                continue
            try:
                path = build_disc_image(cat, disc, out, reporter)
            except BaseException as e:
                reporter.update(phase="failed", error=str(e) or type(e).__name__)
                raise
            written.append({"disc": disc, "image": str(path), "size": path.stat().st_size, "skipped": False})
            if not args.json:
                say(f"disc {disc}: {path}")
        reporter.close()
    if args.json:
        print_json({"images": written})
    return 0
