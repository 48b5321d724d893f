"""Which discs the mount reads: the image files of `--images DIR` (or `[mount] images`), else
the configured robot (`[robot]`, by default the simulator; see `odarchive.app.robot_config`).
"""

from __future__ import annotations

from typing import Any

from odarchive.app.context import Context


def open_disc_source(ctx: Context, mconf: Any):  # -> fuse_mount.discs.DiscSource
    from fuse_mount.discs import ImageDirSource, RobotSource

    if mconf.images:
        return ImageDirSource(ctx.cwd / mconf.images, drives=mconf.image_drives)
    from odarchive.app.robot_config import open_robot

    robot = open_robot(ctx)
    return RobotSource(robot.changer, [robot.drives[n] for n in sorted(robot.drives)], ready_timeout_s=robot.config.media_timeout_s)
