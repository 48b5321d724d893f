"""`odarchive mount MOUNTPOINT`: every burned disc as one read-only file system.

Backgrounds by default: the command starts `odarchive mount --foreground` as a detached
process (its log goes to `<home>/logs/mount.log`) and returns once that process reports the
mount ready, or reports its error (`odarchive.app.mount_serve`). `--foreground` serves in
this process (for systemd, see udev/odarchive-mount.service). While mounted, a status record under
`<home>/jobs/` shows the requests waiting per disc, the drives and the cache fill
(`odarchive status`). Discs come from `--images DIR`, else the robot (`[robot]`), else the
images in `<home>/isos`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from odarchive.app.context import Context
from odarchive.app.mountpoints import mounted
from odarchive.cli.render import announce, say
from odarchive.errors import MountError
from odarchive.options import add_flags, flag_argv, flag_values


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("mountpoint", help="an empty directory to mount the archive on")
    add_flags(p, "mount", "cache")  # --foreground, --disc-timeout, --images, --cache-size, ... (odarchive.options)
    p.add_argument("--ready-fd", type=int, help=argparse.SUPPRESS)


def _inside(path: Path, mountpoint: Path) -> bool:
    path, mountpoint = path.resolve(), mountpoint.resolve()
    return path == mountpoint or mountpoint in path.parents


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.app.mount_config import cache_config, mount_config

    mp = Path(args.mountpoint).absolute()
    mconf = mount_config(ctx, **flag_values(args, "mount"))
    cconf = cache_config(ctx, **flag_values(args, "cache"))
    if mounted(mp):
        raise MountError(
            f"{mp} is already a mount point (or a mount whose process died)", hint=f"odarchive umount {mp}"
        )
    if mp.exists() and not mp.is_dir():
        raise MountError(f"mountpoint {mp} is a file, not a directory", hint="mount on an empty directory")
    if not mp.is_dir():
        raise MountError(f"mountpoint {mp} does not exist", hint=f"mkdir -p {mp}")
    if next(os.scandir(mp), None) is not None:
        raise MountError(
            f"mountpoint {mp} is not empty", hint="mount on an empty directory (the mount would hide what is in it)"
        )
    for what, path in (("the cache directory", cconf.dir), ("the home", ctx.home.root)):
        if _inside(Path(path), mp):
            raise MountError(
                f"{what} {path} is inside the mountpoint {mp}",
                hint="choose a mountpoint outside the home and the cache",
            )
    ctx.open_catalogue(readonly=True).close()  # a clear error now if there is no catalogue
    from odarchive.app.mount_source import ensure_robot_service, needs_service

    if needs_service(mconf):  # before the mount starts, so that a service started now is said
        ensure_robot_service(ctx, announce)
    if not mconf.foreground:
        from odarchive.app.mount_serve import spawn_mount

        pid, warnings = spawn_mount(ctx, mp, flag_argv(args, "mount", "cache"))
        for warning in warnings:
            say(f"warning: {warning}", file=sys.stderr)
        say(f"mounted the archive on {mp} (pid {pid}); `odarchive umount {mp}` to unmount", file=sys.stderr)
        return 0
    from odarchive.app.mount_serve import serve_mount

    serve_mount(ctx, mp, mconf, cconf, args.ready_fd)
    return 0
