"""`odarchive verify IMAGE... [--json]`: check images against their SHA256SUMS and the catalogue.

A failed image that carries error correction is also repaired in a temporary copy under the
home (when the home exists), and the report says whether `odarchive repair` would restore it.
`odarchive verify --discs SEL` checks the burned discs themselves, read through the robot
(`odarchive.app.verify_discs`); image files need no service.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from odarchive.app.context import Context
from odarchive.cli.render import announce, make_reporter, print_json, say
from odarchive.errors import CheckFailed, UsageError
from odarchive.units import format_size


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", metavar="IMAGE", nargs="*", help="disc image(s) to check")
    p.add_argument(
        "--discs", metavar="SEL", help="check burned discs through the robot instead: N, A-B, 3,5,9-12 or all"
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.discs is not None:
        if args.images:
            raise UsageError(
                "give IMAGE... or --discs, not both", hint="images are files; --discs reads the discs in the robot"
            )
        return _discs(args, ctx)
    if not args.images:
        raise UsageError(
            "nothing to verify", hint="give IMAGE... (image files) or --discs SEL (burned discs, through the robot)"
        )
    from odarchive.catalogue import Catalogue
    from odarchive.iso.verify import verify_image

    cat = Catalogue.open(ctx.home.catalogue, readonly=True) if ctx.home.catalogue.exists() else None
    reporter = make_reporter(args.json)
    try:
        scratch = ctx.home.root if ctx.home.root.is_dir() else None
        reports = [verify_image(Path(p), cat, reporter, scratch) for p in args.images]
    finally:
        if cat is not None:
            cat.close()
    bad = [r for r in reports if not r.ok]
    if args.json:
        print_json(
            {
                "ok": not bad,
                "images": [
                    {
                        "image": r.image,
                        "disc": r.disc,
                        "ok": r.ok,
                        "files_checked": r.files_checked,
                        "bytes_checked": r.bytes_checked,
                        "problems": [vars(p) for p in r.problems],
                        "ecc": r.ecc,
                    }
                    for r in reports
                ],
            }
        )
    else:
        for r in reports:
            say(f"{r.image}: {'OK' if r.ok else 'FAILED'} ({r.files_checked} files checked)")
            for p in r.problems:
                say(f"  {p.kind}: {p.path}: {p.detail}")
            if r.ecc is not None:
                remaining = r.ecc["problems_after_repair"]
                after = (
                    " every file is then correct: run `odarchive repair IMAGE`"
                    if r.ecc["repairable"]
                    else f" {len(remaining) if isinstance(remaining, list) else '?'} problem(s) remain"
                )
                say(f"  error correction: {r.ecc['repaired_sectors']} sector(s) repaired in a copy;" + after)
    if bad:
        repairable = all(r.ecc and r.ecc["repairable"] for r in bad)
        raise CheckFailed(
            f"{len(bad)} of {len(reports)} image(s) failed verification",
            hint="their error correction repairs them: `odarchive repair IMAGE...`"
            if repairable
            else "see the problems listed above; rewrite a bad image with `odarchive create_iso N --force`",
        )
    return 0


def _discs(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.app.service.client import ensure_service
    from odarchive.app.verify_discs import verify_discs

    with ensure_service(ctx, announce) as client:
        results = verify_discs(ctx, client, args.discs, make_reporter(args.json))
    bad = [r for r in results if not r["ok"]]
    if args.json:
        print_json({"ok": not bad, "discs": results})
    else:
        for r in results:
            rate = f", {format_size(r['read_bytes_per_s'])}/s" if r["read_bytes_per_s"] else ""
            say(
                f"disc {r['disc']}: {'OK' if r['ok'] else 'FAILED'}{rate}"
                + (f" ({r['detail']})" if r["detail"] else "")
            )
    if bad:
        raise CheckFailed(
            f"{len(bad)} of {len(results)} disc(s) failed verification",
            hint="`odarchive scrub --discs N` records their health and tries their error correction;"
            " `odarchive robot burn --replace N` burns a new one",
        )
    return 0
