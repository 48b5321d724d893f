"""`odarchive restore [PATH...] --to DIR`: files back from disc images, every hash checked;
files damaged in an image with error correction come back through its ECC."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from odarchive.app.context import Context
from odarchive.cli.render import make_reporter, print_json, say
from odarchive.errors import EXIT_FAILED
from odarchive.units import format_size


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="archived paths to restore (root name first, e.g. family/photos); default: everything")
    p.add_argument("--to", required=True, type=Path, metavar="DIR", help="restore target directory")
    p.add_argument("--images", type=Path, metavar="DIR", help="directory of disc images (default: <home>/isos)")
    p.add_argument("--snapshot", type=int, help="snapshot id to restore (default: the latest of every source)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.ecc.restore_fallback import restore_with_ecc
    from odarchive.restore import choose_snapshots, safe_relpath

    prefixes = tuple(safe_relpath(os.fsencode(p).strip(b"/")) for p in args.paths)
    with ctx.open_catalogue(readonly=True) as cat:
        snapshots = choose_snapshots(cat, args.snapshot)
        report = restore_with_ecc(cat, args.to, args.images or ctx.home.isos, snapshots, prefixes,
                                  make_reporter(args.json))
    out = {**vars(report), "ok": report.ok}
    if args.json:
        print_json(out)
    else:
        say(f"restored {report.files_restored} files ({format_size(report.bytes_restored)}),"
              f" {report.files_already_correct} already correct, {report.directories} directories,"
              f" {report.symlinks} symlinks ({report.hard_links} hard links) into {report.target}")
        for line in report.not_set:
            say(f"metadata {line}")
        say(f"discs read: {', '.join(map(str, report.discs_read)) or 'none'}")
        for disc in report.ecc_repaired_discs:
            say(f"disc {disc}: its image is damaged; its files were read from a copy repaired with its error correction"
                " (`odarchive repair IMAGE` repairs the image itself)")
        for disc in report.missing_discs:
            say(f"disc {disc} is needed: its image is not in {args.images or ctx.home.isos}")
        for f in report.failed[:50]:
            say(f"not restored: {f['path']}: {f['reason']}")
        if len(report.failed) > 50:
            say(f"... and {len(report.failed) - 50} more (see --json)")
    return 0 if report.ok else EXIT_FAILED
