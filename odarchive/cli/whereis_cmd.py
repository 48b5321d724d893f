"""`odarchive whereis PATH... [--json]`: which discs and copies hold archived paths, and where they are."""

from __future__ import annotations

import argparse
import os
import time

from odarchive.app.context import Context
from odarchive.cli.render import human_bytes, print_json


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", metavar="PATH", nargs="+", help="archived path(s), root name first (e.g. photos/2019/a.jpg)")
    p.add_argument("--json", action="store_true", help="print JSON (paths exact: `path_hex` holds the raw bytes)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.whereis import whereis

    with ctx.open_catalogue() as cat:
        found = [whereis(cat, os.fsencode(p)) for p in args.paths]
    if args.json:
        print_json({"paths": [{"path": os.fsdecode(w.path), "path_hex": w.path.hex(), "kind": w.kind,
                               "sha256": w.sha256, "size": w.size, "files": w.files, "pieces": w.pieces,
                               "discs": [w.discs[d] for d in sorted(w.discs)]} for w in found]})
        return 0
    for w in found:
        head = f"{_shown(w.path)}: {w.kind}"
        if w.kind == "file":
            head += f", {human_bytes(w.size)}, SHA-256 {w.sha256}" + (f", {len(w.pieces)} pieces" if len(w.pieces) > 1 else "")
        elif w.kind == "directory":
            head += f", {w.files} files, {human_bytes(w.size)}"
        print(head)
        if w.kind != "symlink" and not w.discs:
            print("  on no disc yet (plan_iso, create_iso, robot burn)")
        for d in sorted(w.discs):
            info = w.discs[d]
            print(f"  disc {d} ({info['files']} file(s), {human_bytes(info['bytes'])}):")
            for c in info["copies"]:
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(c["last_verified_ns"] / 1e9)) if c["last_verified_ns"] else "never"
                print(f"    set {c['set']} ({c['label']} {c['set']}): {c['state']}, {_shown(c['where'])}, last verified {when}")
    return 0


def _shown(text: bytes | str) -> str:
    """A name as a person may read it: bytes that are not UTF-8 and control characters escaped
    (\\xff, \\n), as `ls` does."""
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    shown = raw.decode("utf-8", "backslashreplace")
    return "".join(f"\\x{ord(ch):02x}" if ord(ch) < 32 or ord(ch) == 127 else ch for ch in shown)
