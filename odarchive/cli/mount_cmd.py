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
from odarchive.cli.render import say
from odarchive.app.mountpoints import mounted
from odarchive.errors import MountError

# flag -> (dest, takes a value); the background process gets the same flags
_PASSED = (
    ("--cache-dir", "cache_dir"), ("--cache-size", "cache_size"), ("--cache-max-age", "cache_max_age"),
    ("--cache-min-free", "cache_min_free"), ("--cache-policy", "cache_policy"), ("--keep-heads", "keep_heads"),
    ("--disc-timeout", "disc_timeout"), ("--images", "images"),
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("mountpoint", help="an empty directory to mount the archive on")
    p.add_argument("--foreground", action="store_true", default=None, help="serve in this process until unmounted")
    p.add_argument("--cache-dir", help="cache directory (default <home>/cache; not inside the mountpoint)")
    p.add_argument("--cache-size", help="upper bound on cached bytes, e.g. 50G (0: none)")
    p.add_argument("--cache-max-age", help="evict data not read for this long, e.g. 30d (0: never)")
    p.add_argument("--cache-min-free", help="keep this much free space on the cache disk, e.g. 5G")
    p.add_argument("--cache-policy", help="eviction policy: lru, size or lfu")
    p.add_argument("--keep-heads", metavar="SIZE", help="keep the first SIZE bytes of files cached longest, e.g. 64k")
    p.add_argument("--disc-timeout", help="reads waiting longer for their disc fail with EIO, e.g. 10m")
    p.add_argument("--allow-other", action="store_true", default=None, help="let other users read the mount")
    p.add_argument("--images", metavar="DIR", help="read discs from the image files in DIR instead of the robot")
    p.add_argument("--ready-fd", type=int, help=argparse.SUPPRESS)


def _inside(path: Path, mountpoint: Path) -> bool:
    path, mountpoint = path.resolve(), mountpoint.resolve()
    return path == mountpoint or mountpoint in path.parents


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.app.mount_config import cache_config, mount_config

    mp = Path(args.mountpoint).absolute()
    mconf = mount_config(ctx, foreground=args.foreground, allow_other=args.allow_other, disc_timeout_s=args.disc_timeout, images=args.images)
    cconf = cache_config(
        ctx, dir=args.cache_dir, max_bytes=args.cache_size, max_age_s=args.cache_max_age,
        min_free_bytes=args.cache_min_free, policy=args.cache_policy, keep_heads_bytes=args.keep_heads,
    )
    if mounted(mp):
        raise MountError(f"{mp} is already a mount point (or a mount whose process died)", hint=f"odarchive umount {mp}")
    if mp.exists() and not mp.is_dir():
        raise MountError(f"mountpoint {mp} is a file, not a directory", hint="mount on an empty directory")
    if not mp.is_dir():
        raise MountError(f"mountpoint {mp} does not exist", hint=f"mkdir -p {mp}")
    if next(os.scandir(mp), None) is not None:
        raise MountError(f"mountpoint {mp} is not empty", hint="mount on an empty directory (the mount would hide what is in it)")
    for what, path in (("the cache directory", cconf.dir), ("the home", ctx.home.root)):
        if _inside(Path(path), mp):
            raise MountError(f"{what} {path} is inside the mountpoint {mp}", hint="choose a mountpoint outside the home and the cache")
    ctx.open_catalogue(readonly=True).close()  # a clear error now if there is no catalogue
    if not mconf.foreground:
        from odarchive.app.mount_serve import spawn_mount

        pid, warnings = spawn_mount(ctx, mp, _passed_flags(args))
        for warning in warnings:
            say(f"warning: {warning}", file=sys.stderr)
        say(f"mounted the archive on {mp} (pid {pid}); `odarchive umount {mp}` to unmount", file=sys.stderr)
        return 0
    from odarchive.app.mount_serve import serve_mount

    serve_mount(ctx, mp, mconf, cconf, args.ready_fd)
    return 0


def _passed_flags(args: argparse.Namespace) -> list[str]:
    """The flags given to this command, for the background process."""
    flags = []
    for flag, dest in _PASSED:
        if getattr(args, dest) is not None:
            flags += [flag, str(getattr(args, dest))]
    if args.allow_other:
        flags.append("--allow-other")
    return flags
