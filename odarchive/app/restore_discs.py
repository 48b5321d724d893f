"""Where `odarchive restore` without `--images` reads a disc: its image file in the home
(`<home>/isos`) when that is there, else the disc itself through the robot.

Discs come through the archive service (`odarchive.app.leased_read`: a read lease, the
drive it hands over read here), one disc at a time in disc order, as `odarchive.restore`
asks for them: each disc is loaded once for every file it holds. The service is started
only when a disc is needed that has no image and has been burned; a disc that was never
burned, or that no changer slot holds, is reported missing ("disc 17 is needed": the
service's message says where its copies are kept).
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from odarchive.app.context import Context
from odarchive.catalogue import Catalogue
from odarchive.restore import ImageDiscs, MissingDisc, ReadAt


class ImagesThenRobot:
    """`odarchive.restore.OpenDisc`: an image from `images`, else the disc via the service."""

    def __init__(self, ctx: Context, cat: Catalogue, images: Path, announce: Callable[[str], None]) -> None:
        self.ctx, self.cat, self.announce = ctx, cat, announce
        self.images = ImageDiscs(cat, images)
        self._client: Any = None
        self.through_robot: list[int] = []

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def _service(self) -> Any:
        if self._client is None:
            from odarchive.app.service.client import ensure_service

            self._client = ensure_service(self.ctx, self.announce)
        return self._client

    def _burned(self, disc: int) -> bool:
        from odarchive.copies import copies_of

        return any(c.state == "verified" for c in copies_of(self.cat, disc))

    @contextmanager
    def __call__(self, disc: int) -> Iterator[ReadAt]:
        if self.images.image(disc) is not None:
            with self.images(disc) as read_at:
                yield read_at
            return
        if not self._burned(disc):
            raise MissingDisc(f"its image is not in {self.images.images} and it was never burned")
        from odarchive.app.leased_read import leased_disc
        from odarchive.app.robot_config import robot_config
        from odarchive.app.service.client import ServiceError

        with ExitStack() as stack:
            try:
                dev = stack.enter_context(
                    leased_disc(self._service(), disc, "restore", xorriso=robot_config(self.ctx).xorriso)
                )
            except ServiceError as e:
                raise MissingDisc(e.message) from None
            self.through_robot.append(disc)
            yield _reader(dev)


def _reader(dev: Any) -> ReadAt:
    """`dev.read` with a robot error (an unreadable sector) as the OSError restore expects."""
    from robot_drivers.errors import RobotError

    def read_at(offset: int, length: int) -> bytes:
        try:
            return dev.read(offset, length)
        except RobotError as e:
            raise OSError(errno.EIO, str(e)) from None

    return read_at
