"""`odarchive umount MOUNTPOINT`: unmount the archive and wait for the mount process to end.

The work is `odarchive.app.mountpoints.unmount`: a mount whose process died is unmounted
too, and its leftover status record removed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from odarchive.app.context import Context


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("mountpoint", help="where the archive is mounted")
    p.add_argument("--lazy", action="store_true", help="detach now even if files are open (they stay readable)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.app.mountpoints import unmount

    unmount(ctx, Path(args.mountpoint).absolute(), lazy=args.lazy)
    return 0
