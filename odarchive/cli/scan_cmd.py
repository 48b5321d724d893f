"""`odarchive create_db SOURCE` (alias `scan`): catalogue and hash a source tree."""

from __future__ import annotations

import argparse
import os

from odarchive.app.context import Context
from odarchive.cli.render import make_reporter, print_json, say
from odarchive.jobs import JobReporter, exclusive
from odarchive.units import format_size


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="directory to archive")
    p.add_argument("--name", help="root name of the source in the archive (default: its basename)")
    p.add_argument(
        "--jobs",
        type=int,
        help="hashing threads, and processes beside the walk minus one (default: number of CPUs, at most 8)",
    )
    p.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip names or relative paths matching GLOB (repeatable)",
    )
    p.add_argument("--rehash", action="store_true", help="hash every file again, changed or not")


def _own_dirs(ctx: Context) -> tuple[tuple[bytes, str], ...]:
    """The home and the mount's cache: never archived, even when they lie inside the source."""
    cache = ctx.settings.section("cache").get("dir") or ctx.home.cache
    return ((os.fsencode(ctx.home.root), "the archive's home"), (os.fsencode(str(cache)), "the mount's cache"))


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.scan import ScanOptions, check_source, scan_source

    check_source(args.source)
    options = ScanOptions(
        root_name=os.fsencode(args.name) if args.name else None,
        excludes=tuple(args.exclude),
        rehash=args.rehash,
        exclude_dirs=_own_dirs(ctx),
        **({"jobs": args.jobs} if args.jobs else {}),
    )
    with ctx.open_catalogue(create=True) as cat, exclusive(ctx.home.jobs, "scan", "a scan"):
        reporter = JobReporter(
            ctx.home.jobs, "scan", "create_db", make_reporter(args.json), source=os.path.abspath(args.source)
        )
        try:
            summary = scan_source(cat, args.source, options, reporter)
        except BaseException as e:
            reporter.update(phase="failed", error=str(e) or type(e).__name__)
            raise
        reporter.close()
    if args.json:
        print_json(vars(summary))
    else:
        s = summary
        say(f"snapshot {s.snapshot} of {s.root_name} ({s.source}){' (continued)' if s.resumed else ''}")
        say(f"  entries {s.entries}, files {s.files}, unchanged {s.unchanged}")
        say(f"  hashed {s.hashed_files} files, {format_size(s.hashed_bytes)}; new contents {s.new_contents}")
        say(f"  skipped {s.skipped}{' (see `odarchive get_info --skipped`)' if s.skipped else ''}")
        for path in s.excluded:
            say(f"  left out {path}: odarchive's own state (the home or its cache) is never archived")
        rate = s.hashed_bytes / s.seconds if s.seconds else 0
        say(f"  {s.seconds:.1f} s, {format_size(rate)}/s")
    return 0
