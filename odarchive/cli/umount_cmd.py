"""`odarchive umount MOUNTPOINT`: unmount the archive and wait for the mount process to end.

Uses `fusermount3 -u` (or `umount` when that is missing), then waits until the mount's
process has closed its cache and removed its status record, so a new mount can start at
once. A mount whose process died (`Transport endpoint is not connected`) is unmounted too,
and its leftover record removed.
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


def mounted(mp: Path) -> bool:
    """Whether `mp` is a mount point, including a FUSE mount whose process died (where
    os.path.ismount fails: "Transport endpoint is not connected")."""
    if os.path.ismount(mp):
        return True
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
            points = {line.split()[1].replace("\\040", " ") for line in f if len(line.split()) > 1}
    except OSError:
        return False
    return str(mp) in points


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.jobs import pid_alive, read_jobs

    mp = Path(args.mountpoint).absolute()
    if not mounted(mp):
        raise MountError(f"{mp} is not mounted")
    jobs = [(ctx.home.jobs / f"{j.name}.json", int(j.record["pid"])) for j in read_jobs(ctx.home.jobs)
            if j.record.get("mountpoint") == str(mp)]
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
    for record, pid in jobs:  # the record of a mount process that died stays behind: drop it
        if not pid_alive(pid):
            record.unlink(missing_ok=True)
    return 0
