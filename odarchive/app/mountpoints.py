"""Mount points of the archive: whether a path is mounted, and unmounting it.

`unmount` uses `fusermount3 -u` (or `umount` when that is missing), then waits until the
mount's process has closed its cache and removed its status record, so a new mount can
start at once. A mount found busy is tried again for up to BUSY_S: the mount itself holds a
directory open for a few milliseconds when it lists one ahead of a stat storm
(`fuse_mount.prefetch`). A mount whose process died (`Transport endpoint is not connected`) is
unmounted too, and its leftover record removed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from odarchive.app.context import Context
from odarchive.errors import MountError

WAIT_S = 30.0
BUSY_S = 2.0


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


def unmount(ctx: Context, mp: Path, lazy: bool = False) -> None:
    """Unmount the archive on `mp` and wait for its mount process to end (MountError if not)."""
    from odarchive.jobs import pid_alive, read_jobs

    if not mounted(mp):
        raise MountError(f"{mp} is not mounted")
    jobs = [
        (ctx.home.jobs / f"{j.name}.json", int(j.record["pid"]))
        for j in read_jobs(ctx.home.jobs)
        if j.record.get("mountpoint") == str(mp)
    ]
    if shutil.which("fusermount3"):
        cmd = ["fusermount3", "-u"] + (["-z"] if lazy else []) + [str(mp)]
    else:
        cmd = ["umount"] + (["-l"] if lazy else []) + [str(mp)]
    deadline = time.monotonic() + BUSY_S
    done = subprocess.run(cmd, capture_output=True, text=True)
    while done.returncode != 0 and "busy" in done.stderr and time.monotonic() < deadline:
        time.sleep(0.05)
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
