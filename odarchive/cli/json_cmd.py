"""`odarchive export_json FILE` and `import_json FILE`: the seed's catalogue.json, version 1."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from odarchive.app.context import Context
from odarchive.cli.render import print_json, say


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="catalogue.json to write (export) or read (import)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.catalogue.seedimport import import_json_file
    from odarchive.catalogue.seedjson import export_json_file

    if args._command == "export_json":
        with ctx.open_catalogue(readonly=True) as cat:
            n = export_json_file(cat, args.file)
        result: Mapping[str, object] = {"file": str(args.file), "contents": n}
        text = f"wrote {n} contents to {args.file}"
    else:
        fresh = not ctx.home.catalogue.exists()
        try:
            with ctx.open_catalogue(create=True) as cat:
                result = import_json_file(cat, args.file)  # a bad entry anywhere: rolled back, nothing imported
        except BaseException:
            if fresh:  # nor is the catalogue that was made for it left behind
                _remove_catalogue(ctx.home.catalogue)
            raise
        text = f"imported {result['files']} files ({result['new_contents']} new contents) into {result['sources']} source(s)"
    if args.json:
        print_json(result)
    else:
        say(text)
    return 0


def _remove_catalogue(path: Path) -> None:
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        p.unlink(missing_ok=True)
