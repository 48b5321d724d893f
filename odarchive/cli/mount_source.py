"""Which discs the mount reads: `--images DIR`, else the robot, else `<home>/isos`.

Kept apart from `mount_cmd` because it is the one place that knows how a robot is opened
for the mount; the robot commands own the robot's configuration (`[robot]`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from odarchive.cli.context import Context
from odarchive.errors import MountError


def open_disc_source(ctx: Context, mconf: Any):  # -> fuse_mount.discs.DiscSource
    from fuse_mount.discs import ImageDirSource

    if mconf.images:
        return ImageDirSource(ctx.cwd / mconf.images, drives=mconf.image_drives)
    if ctx.home.isos.is_dir():
        return ImageDirSource(Path(ctx.home.isos), drives=mconf.image_drives)
    raise MountError(
        "no disc source: no --images DIR and no images in " + str(ctx.home.isos),
        hint="pass --images DIR with the disc images, or configure the robot ([robot] in odarchive.toml)",
    )
