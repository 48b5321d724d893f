"""`odarchive demo [DIR]`: the main job on built-in sample data and the simulated robot.

Creates DIR/sample (the sample tree) and DIR/home (the archive's home, with the simulated
robot sped up 200 times in its odarchive.toml), then runs the commands a user would, printing
each one first, so the output doubles as a tutorial: catalogue, plan, images, verify, burn on
the simulated robot, restore, and finally mount the archive and read a file through it. It ends
with the archive still mounted, to browse. Running it again on the same DIR unmounts and
starts over (only a directory this command made is ever removed).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from odarchive.app.context import Context
from odarchive.errors import CheckFailed, InputError

MARKER = ".odarchive-demo"
SAMPLE_FILE = "video/clip0.mp4"  # split over two discs: reading it loads both


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "dir",
        nargs="?",
        type=Path,
        default=Path("/tmp/odarchive-demo"),
        help="work directory for the demo (default /tmp/odarchive-demo)",
    )


def steps(sample: Path, home: Path, work: Path) -> Iterator[list[str]]:
    """The demo's commands, in order (argv after `odarchive --home HOME`); lazily, because later
    steps name files that earlier ones make."""
    yield ["create_db", str(sample), "--name", "family"]
    yield ["get_info"]
    yield ["plan_iso", "3M"]
    yield ["num_isos"]
    yield ["create_iso", "all"]
    yield ["verify", *sorted(str(p) for p in (home / "isos").glob("*.iso"))]
    yield ["robot", "burn", "--segments", "all"]
    yield ["robot", "status"]
    yield ["restore", "--to", str(work / "restored")]
    yield ["mount", str(work / "mnt")]
    yield ["@read", str(work / "mnt" / "family" / SAMPLE_FILE), str(sample / SAMPLE_FILE)]
    yield ["cache", "stats"]


def _read_through_mount(mounted: str, original: str) -> int:
    got = hashlib.sha256(Path(mounted).read_bytes()).hexdigest()
    want = hashlib.sha256(Path(original).read_bytes()).hexdigest()
    print(f"{got}  {mounted}\n{want}  {original}")
    if got != want:
        raise CheckFailed(f"{mounted} does not read back as {original}")
    print("# identical: the simulated robot loaded the discs and the cache now holds the file")
    return 0


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.cli import main
    from odarchive.sample import make_sample_tree

    work: Path = args.dir.absolute()
    if work.exists():
        if not (work / MARKER).exists():
            raise InputError(f"{work} exists and was not made by `odarchive demo`", hint="choose another DIR")
        mnt = work / "mnt"
        if mnt.is_mount():
            main(["--home", str(work / "home"), "umount", str(mnt)])
        if (work / "home" / "robot").exists():
            main(["--home", str(work / "home"), "robot", "simulate", "--stop"])
        shutil.rmtree(work)
    work.mkdir(parents=True)
    (work / MARKER).write_text("made by odarchive demo; removed when the demo runs again\n")
    sample = make_sample_tree(work / "sample")
    home = work / "home"
    home.mkdir()
    (home / "odarchive.toml").write_text(
        "# the demo's simulated robot runs 200 times faster than a real one\n[robot.simulator]\nspeed = 200\n"
    )
    (work / "mnt").mkdir()
    print(f"# sample data in {sample}, archive home {home}")
    for argv in steps(sample, home, work):
        if argv[0] == "@read":
            print(f"\n$ sha256sum {argv[1]} {argv[2]}", flush=True)
            code = _read_through_mount(argv[1], argv[2])
        else:
            print(f"\n$ odarchive --home {home} {' '.join(argv)}", flush=True)
            code = main(["--home", str(home), *argv])
        if code != 0:
            print(f"# step failed with exit code {code}")
            return code
    print(f"\n# done: the archive is mounted on {work / 'mnt'} (home {home}); browse it, then")
    print(f"#   odarchive --home {home} umount {work / 'mnt'}")
    print(f"#   odarchive --home {home} robot simulate --stop")
    return 0
