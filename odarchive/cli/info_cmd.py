"""`odarchive get_info`: what the catalogue holds (the seed's get_info, with JSON)."""

from __future__ import annotations

import argparse
import time

from odarchive.cli.context import Context
from odarchive.cli.render import human_bytes, print_json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--skipped", action="store_true", help="list skipped entries of the latest snapshots")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.catalogue.summary import catalogue_summary, skipped_entries

    with ctx.open_catalogue() as cat:
        info = catalogue_summary(cat)
        if args.skipped:
            info["skipped_entries"] = [
                e for _, snap in cat.latest_snapshots() for e in skipped_entries(cat, snap.id)
            ]
    if args.json:
        print_json(info)
        return 0
    print(f"home {info['home']}")
    for s in info["sources"]:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(s["scanned_ns"] / 1e9)) if s["scanned_ns"] else "never"
        line = f"  source {s['name']} ({s['path']}): snapshot {s['snapshot']} scanned {when}"
        if s["snapshot"]:
            line += f", {s['files']} files, {human_bytes(s['bytes'])}, {s['skipped']} skipped"
        if s["unfinished_scan"]:
            line += f"; scan {s['unfinished_scan']} unfinished (run create_db again to continue)"
        print(line)
    print(f"snapshots {info['snapshots']}")
    print(f"files {info['files']} ({human_bytes(info['bytes'])}), directories {info['directories']},"
          f" symlinks {info['symlinks']}")
    print(f"contents {info['contents']} ({human_bytes(info['unique_bytes'])} after dedup)")
    print(f"skipped {info['skipped']}")
    for e in info.get("skipped_entries", []):
        print(f"  {e['path']}: {e['reason']}")
    return 0
