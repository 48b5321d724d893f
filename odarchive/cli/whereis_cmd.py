"""`odarchive whereis PATH... [--json]`: which discs and copies hold archived paths, and where they are."""

from __future__ import annotations

import argparse
import os
import time

from odarchive.app.context import Context
from odarchive.cli.render import print_json, say
from odarchive.units import format_size


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "paths", metavar="PATH", nargs="+", help="archived path(s), root name first (e.g. photos/2019/a.jpg)"
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.whereis import whereis

    with ctx.open_catalogue(readonly=True) as cat:
        found = [whereis(cat, os.fsencode(p)) for p in args.paths]
    if args.json:
        print_json(
            {
                "paths": [
                    {
                        "path": os.fsdecode(w.path),
                        "path_hex": w.path.hex(),
                        "kind": w.kind,
                        "sha256": w.sha256,
                        "size": w.size,
                        "files": w.files,
                        "pieces": w.pieces,
                        "discs": [w.discs[d] for d in sorted(w.discs)],
                    }
                    for w in found
                ]
            }
        )
        return 0
    for w in found:
        head = f"{os.fsdecode(w.path)}: {w.kind}"
        if w.kind == "file":
            head += f", {format_size(w.size)}, SHA-256 {w.sha256}" + (
                f", {len(w.pieces)} pieces" if len(w.pieces) > 1 else ""
            )
        elif w.kind == "directory":
            head += f", {w.files} files, {format_size(w.size)}"
        say(head)
        if w.kind != "symlink" and not w.discs:
            say("  on no disc yet (plan_iso, create_iso, robot burn)")
        for d in sorted(w.discs):
            info = w.discs[d]
            say(f"  disc {d} ({info['files']} file(s), {format_size(info['bytes'])}):")
            for c in info["copies"]:
                when = (
                    time.strftime("%Y-%m-%d %H:%M", time.localtime(c["last_verified_ns"] / 1e9))
                    if c["last_verified_ns"]
                    else "never"
                )
                say(f"    set {c['set']} ({c['label']} {c['set']}): {c['state']}, {c['where']}, last verified {when}")
    return 0
