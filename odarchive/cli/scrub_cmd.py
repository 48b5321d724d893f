"""`odarchive scrub [--discs SEL] [--older-than AGE] [--json]`: read burned discs back, record their health."""

from __future__ import annotations

import argparse
import time

from odarchive.app.context import Context
from odarchive.cli.render import announce, make_reporter, print_json, say
from odarchive.errors import CheckFailed, UsageError
from odarchive.units import format_size, parse_duration


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--discs", default="all", metavar="SEL", help="discs to read back: N, A-B, 3,5,9-12 or all (default)"
    )
    p.add_argument("--older-than", metavar="AGE", help="only copies not checked for AGE (e.g. 30d, 12h)")
    p.add_argument("--history", action="store_true", help="print every disc's health history, read nothing")


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.history:
        from odarchive.health import history

        with ctx.open_catalogue(readonly=True) as cat:
            rows = history(cat)
        if args.json:
            print_json({"history": rows})
        for h in [] if args.json else rows:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(h["at_ns"] / 1e9))  # type: ignore[operator]
            say(
                f"disc {h['disc']} set {h['set']} {when}: {h['result']}, {h['corrected_sectors']} corrected,"
                f" {h['unreadable_sectors']} unreadable sectors" + (f" ({h['detail']})" if h["detail"] else "")
            )
        return 0
    from odarchive.app.scrub import run_scrub
    from odarchive.app.service.client import ensure_service

    try:
        older = parse_duration(args.older_than) if args.older_than else None
    except ValueError as e:
        raise UsageError(str(e)) from None
    with ensure_service(ctx, announce) as client:  # it owns the robot: reads go through leases
        result = run_scrub(ctx, client, args.discs, older, make_reporter(args.json))
    if args.json:
        print_json(result)
    else:
        for r in result["scrubbed"]:
            say(
                f"disc {r['disc']} set {chr(65 + r['copy'])} (slot {r['slot']}): {r['result']},"
                f" {r['corrected_sectors']} corrected, {r['unreadable_sectors']} unreadable sectors,"
                f" {format_size(r['read_bytes_per_s'])}/s" + (f" ({r['detail']})" if r["detail"] else "")
            )
        for r in result["not_in_changer"]:
            say(
                f"disc {r['disc']} set {chr(65 + r['copy'])}: not in the changer"
                + (f" (kept at {r['location']})" if r["location"] else "")
                + ", not read"
            )
    if result["attention"]:
        names = ", ".join(f"disc {h['disc']} set {h['set']} ({h['result']})" for h in result["attention"])
        raise CheckFailed(
            f"{len(result['attention'])} disc(s) need attention: {names}",
            hint="burn a replacement: `odarchive robot burn --replace N [--copy K]`",
        )
    return 0
