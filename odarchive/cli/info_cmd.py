"""`odarchive get_info`: what the catalogue holds (the seed's get_info, with JSON)."""

from __future__ import annotations

import argparse
import time

from odarchive.app.context import Context
from odarchive.cli.render import print_json, say
from odarchive.units import format_size


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--skipped", action="store_true", help="list skipped entries of the latest snapshots")
    p.add_argument("--discs", action="store_true", help="a summary of every planned disc")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.archive_config import ArchiveConfig
    from odarchive.catalogue.summary import catalogue_summary, skipped_entries
    from odarchive.copies import under_replicated
    from odarchive.plan.summary import disc_count, disc_summaries

    copies = ctx.settings.build(ArchiveConfig, "archive").copies
    with ctx.open_catalogue(readonly=True) as cat:
        info = catalogue_summary(cat)
        info["discs"] = disc_count(cat)
        info["under_replicated"] = under_replicated(cat, copies)
        if args.discs:
            info["disc_summaries"] = disc_summaries(cat)
        if args.skipped:
            info["skipped_entries"] = [e for _, snap in cat.latest_snapshots() for e in skipped_entries(cat, snap.id)]
    if args.json:
        print_json(info)
        return 0
    say(f"home {info['home']}")
    for s in info["sources"]:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(s["scanned_ns"] / 1e9)) if s["scanned_ns"] else "never"
        line = f"  source {s['name']} ({s['path']}): snapshot {s['snapshot']} scanned {when}"
        if s["snapshot"]:
            line += f", {s['files']} files, {format_size(s['bytes'])}, {s['skipped']} skipped"
        if s["unfinished_scan"]:
            line += f"; scan {s['unfinished_scan']} unfinished (run create_db again to continue)"
        say(line)
    say(f"snapshots {info['snapshots']}")
    say(
        f"files {info['files']} ({format_size(info['bytes'])}), directories {info['directories']},"
        f" symlinks {info['symlinks']}"
    )
    say(f"contents {info['contents']} ({format_size(info['unique_bytes'])} after dedup)")
    say(f"skipped {info['skipped']}")
    say(f"discs {info['discs']} planned")
    short = info["under_replicated"]
    if short["contents"]:
        say(
            f"under-replicated: {short['files']} files, {short['contents']} contents ({format_size(short['bytes'])})"
            f" on {short['discs']} disc(s) with fewer than {short['copies_wanted']} verified copies"
            " (plan_iso --copies N plans copies; robot burn --copy K burns them)"
        )
    for d in info.get("disc_summaries", []):
        say(
            f"  disc {d['disc']:4d} {d['state']:9s} {d['files']} files, {format_size(d['data_bytes'])} data,"
            f" {100 * d['fill']:.2f}% of {format_size(d['capacity_bytes'])}"
            + (f", image {d['image']}" if d["image"] else "")
        )
    for e in info.get("skipped_entries", []):
        say(f"  {e['path']}: {e['reason']}")
    return 0
