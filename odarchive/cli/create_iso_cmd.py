"""`odarchive create_iso N|A-B|all [--out DIR] [--force] [--json]`: write disc images.

An image that exists already (with its recorded size) is kept unless `--force`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from odarchive.app.context import Context
from odarchive.cli.render import make_reporter, print_json
from odarchive.errors import UsageError
from odarchive.jobs import JobReporter, exclusive

if TYPE_CHECKING:
    from odarchive.catalogue import Catalogue


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("discs", metavar="N|A-B|all", nargs="?", default="0", help="disc number(s) to write (default 0)")
    p.add_argument("--out", help="output directory (default <home>/isos)")
    p.add_argument("--force", action="store_true", help="rewrite images that exist already")
    p.add_argument("--json", action="store_true", help="print the written images as JSON")


def parse_discs(text: str, count: int) -> list[int]:
    if text == "all":
        return list(range(count))
    try:
        if "-" in text:
            a, b = (int(x) for x in text.split("-", 1))
        else:
            a = b = int(text)
    except ValueError:
        raise UsageError(f"bad disc selection {text!r}", hint="use N, A-B or all") from None
    if a < 0 or b < a:
        raise UsageError(f"bad disc range {text!r}", hint="use N, A-B (A <= B) or all")
    return list(range(a, b + 1))


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.iso.build import build_disc_image
    from odarchive.plan.summary import disc_count

    out = Path(args.out) if args.out else ctx.home.isos
    written = []
    with ctx.open_catalogue() as cat, exclusive(ctx.home.jobs, "create_iso", "an image build (create_iso or robot burn)"):
        discs = parse_discs(args.discs, disc_count(cat))
        if not discs:
            raise UsageError("no discs are planned", hint="run `odarchive plan_iso SIZE` first")
        reporter = JobReporter(ctx.home.jobs, "create_iso", "create_iso", make_reporter(args.json), discs=args.discs)
        for disc in discs:
            reporter.update(disc=disc)
            existing = _existing_image(cat, disc, out)
            if existing is not None and not args.force:
                written.append({"disc": disc, "image": str(existing), "size": existing.stat().st_size, "skipped": True})
                if not args.json:
                    print(f"disc {disc}: {existing} (exists; --force rewrites it)")
                continue
            try:
                path = build_disc_image(cat, disc, out, reporter)
            except BaseException as e:
                reporter.update(phase="failed", error=str(e) or type(e).__name__)
                raise
            written.append({"disc": disc, "image": str(path), "size": path.stat().st_size, "skipped": False})
            if not args.json:
                print(f"disc {disc}: {path}")
        reporter.close()
    if args.json:
        print_json({"images": written})
    return 0


def _existing_image(cat: Catalogue, disc: int, out: Path) -> Path | None:
    """The image of `disc` in `out` if it was written and still has its recorded size."""
    row = cat.conn.execute("SELECT image_name, image_size FROM discs WHERE id=?", (disc,)).fetchone()
    if row is None or row[0] is None:
        return None
    path = out / row[0]
    return path if path.exists() and path.stat().st_size == row[1] else None
