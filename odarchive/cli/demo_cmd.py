"""`odarchive demo [DIR]`: the main job on built-in sample data, step by step.

Creates DIR/sample (the sample tree) and DIR/home (the archive's home), then runs the same
commands a user would, printing each one first, so the output doubles as a tutorial. Running
it again on the same DIR starts over (only a directory this command made is ever removed).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from odarchive.cli.context import Context
from odarchive.errors import InputError

MARKER = ".odarchive-demo"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", nargs="?", type=Path, default=Path("/tmp/odarchive-demo"),
                   help="work directory for the demo (default /tmp/odarchive-demo)")


def steps(sample: Path, home: Path, work: Path) -> list[list[str]]:
    """The demo's commands, in order (argv after `odarchive --home HOME`)."""
    return [
        ["create_db", str(sample), "--name", "family"],
        ["get_info"],
    ]


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.cli import main
    from odarchive.sample import make_sample_tree

    work: Path = args.dir.absolute()
    if work.exists():
        if not (work / MARKER).exists():
            raise InputError(f"{work} exists and was not made by `odarchive demo`", hint="choose another DIR")
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / MARKER).write_text("made by odarchive demo; removed when the demo runs again\n")
    sample = make_sample_tree(work / "sample")
    home = work / "home"
    home.mkdir()
    print(f"# sample data in {sample}, archive home {home}")
    for argv in steps(sample, home, work):
        print(f"\n$ odarchive --home {home} {' '.join(argv)}", flush=True)
        code = main(["--home", str(home), *argv])
        if code != 0:
            print(f"# step failed with exit code {code}")
            return code
    print(f"\n# done: the archive's home is {home}")
    return 0
