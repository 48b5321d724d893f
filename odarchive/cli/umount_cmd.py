"""`odarchive umount MOUNTPOINT`: unmount the archive and wait for the mount process to end.

Uses `fusermount3 -u` (or `umount` when that is missing), then waits until the mount's
process has closed its cache and removed its status record (or died), so a new mount can start at once.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time
from pathlib import Path

from odarchive.cli.context import Context
from odarchive.errors import MountError

WAIT_S = 30.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("mountpoint", help="where the archive is mounted")
    p.add_argument("--lazy", action="store_true", help="detach now even if files are open (they stay readable)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.jobs import pid_alive, read_jobs

    mp = Path(args.mountpoint).absolute()
    if not os.path.ismount(mp):
        raise MountError(f"{mp} is not mounted")
    jobs = [(ctx.home.jobs / f"{j.name}.json", int(j.record["pid"])) for j in read_jobs(ctx.home.jobs)
            if j.record.get("mountpoint") == str(mp) and j.alive]
    if shutil.which("fusermount3"):
        cmd = ["fusermount3", "-u"] + (["-z"] if args.lazy else []) + [str(mp)]
    else:
        cmd = ["umount"] + (["-l"] if args.lazy else []) + [str(mp)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise MountError(
            f"cannot unmount {mp}: {done.stderr.strip() or done.returncode}",
            hint="close the files and shells using it (`fuser -vm MOUNTPOINT`), or use --lazy",
        )
    deadline = time.monotonic() + WAIT_S
    while any(record.exists() and pid_alive(pid) for record, pid in jobs) and time.monotonic() < deadline:
        time.sleep(0.05)
    return 0
