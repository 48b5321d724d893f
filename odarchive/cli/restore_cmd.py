"""`odarchive restore [PATH...] --to DIR [--images DIR]`: files back from disc images, every
hash checked; files damaged in an image with error correction come back through its ECC.
Without `--images`, a disc whose image is not in the home is read through the robot (the
archive service, started if needed), each disc once, in disc order."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from odarchive.app.context import Context
from odarchive.cli.render import announce, make_reporter, print_json, say
from odarchive.errors import EXIT_FAILED
from odarchive.units import format_size


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="archived paths to restore (root name first, e.g. family/photos); default: everything",
    )
    p.add_argument("--to", required=True, type=Path, metavar="DIR", help="restore target directory")
    p.add_argument(
        "--images",
        type=Path,
        metavar="DIR",
        help="read the discs from the images in DIR only (default: <home>/isos, else the discs through the robot)",
    )
    p.add_argument("--snapshot", type=int, help="snapshot id to restore (default: the latest of every source)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.app.restore_discs import ImagesThenRobot
    from odarchive.ecc.restore_fallback import restore_with_ecc
    from odarchive.restore import choose_snapshots, safe_relpath

    prefixes = tuple(safe_relpath(os.fsencode(p).strip(b"/")) for p in args.paths)
    with ctx.open_catalogue(readonly=True) as cat:
        snapshots = choose_snapshots(cat, args.snapshot)
        discs = None if args.images else ImagesThenRobot(ctx, cat, ctx.home.isos, announce)
        try:
            report = restore_with_ecc(
                cat, args.to, args.images or ctx.home.isos, snapshots, prefixes, make_reporter(args.json), discs
            )
        finally:
            if discs is not None:
                discs.close()
    out = {**vars(report), "ok": report.ok, "read_through_robot": discs.through_robot if discs else []}
    if args.json:
        print_json(out)
    else:
        say(
            f"restored {report.files_restored} files ({format_size(report.bytes_restored)}),"
            f" {report.files_already_correct} already correct, {report.directories} directories,"
            f" {report.symlinks} symlinks ({report.hard_links} hard links) into {report.target}"
        )
        for line in report.not_set:
            say(f"metadata {line}")
        say(
            f"discs read: {', '.join(map(str, report.discs_read)) or 'none'}"
            + (
                f" (through the robot: {', '.join(map(str, discs.through_robot))})"
                if discs and discs.through_robot
                else ""
            )
        )
        for disc in report.ecc_repaired_discs:
            say(
                f"disc {disc}: its image is damaged; its files were read from a copy repaired with its error correction"
                " (`odarchive repair IMAGE` repairs the image itself)"
            )
        for m in report.missing_reasons:
            say(f"disc {m['disc']} is needed: {m['reason']}")
        for f in report.failed[:50]:
            say(f"not restored: {f['path']}: {f['reason']}")
        if len(report.failed) > 50:
            say(f"... and {len(report.failed) - 50} more (see --json)")
    return 0 if report.ok else EXIT_FAILED
