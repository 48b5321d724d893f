"""Which discs the mount reads: the image files of `--images DIR` (or `[mount] images`), else
the robot, through the archive service that owns it (`odarchive.app.service_source`; the
service is started in the background if none runs). Either way a read that fails falls back
to the disc's copies, then to its error correction (`fuse_mount.rescue`, with
`odarchive.app.mount_ecc.EccRepairer`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from odarchive.app.context import Context

log = logging.getLogger("odarchive.mount")


def needs_service(mconf: Any) -> bool:
    return not mconf.images


def ensure_robot_service(ctx: Context, announce: Callable[[str], None]) -> int:
    """Make sure the archive service runs for this home; how many drives it has."""
    from odarchive.app.service.client import ensure_service

    with ensure_service(ctx, announce) as client:
        return len(client.status()["drives"])


def open_disc_source(ctx: Context, mconf: Any, client_name: str):  # -> fuse_mount.discs.DiscSource
    from fuse_mount.discs import ImageDirSource
    from fuse_mount.rescue import RescuingSource
    from odarchive.app.mount_ecc import EccRepairer

    repairer = EccRepairer(ctx.home.catalogue, ctx.home.root)
    if mconf.images:
        return RescuingSource(ImageDirSource(ctx.cwd / mconf.images, drives=mconf.image_drives), repairer)
    from odarchive.app.robot_config import robot_config
    from odarchive.app.service_source import ServiceSource

    def restart() -> None:
        ensure_robot_service(ctx, lambda text: log.warning("%s", text))

    drives = ensure_robot_service(ctx, lambda text: log.info("%s", text))
    source = ServiceSource(
        ctx.home, max(1, drives), client_name, mconf.disc_timeout_s, robot_config(ctx).xorriso, restart
    )
    return RescuingSource(source, repairer)
