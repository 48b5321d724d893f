"""Reading a disc through the archive service: a read lease, the drive it hands over, the
lease given back.

`leased_disc(client, disc, name)` waits for "disc N in a drive, for reading" (any copy, or
one `copy`: scrub reads each copy), yields the drive as a `robot_drivers` drive (the caller
reads it itself: data never passes through the service) and releases the lease when the
block ends, also on an error. Used by `scrub`, `robot burn --replace` (an image read back
from another copy), `restore` and `verify` without images.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from robot_drivers.drives.optical import OpticalDrive

WAIT_S = 3600.0  # a batch job waits behind burns and other readers; the mount uses its own timeout


@contextmanager
def leased_disc(
    client: Any, disc: int, name: str, copy: int | None = None, timeout_s: float = WAIT_S, xorriso: str = "xorriso"
) -> Iterator[OpticalDrive]:
    from odarchive.app.service.client import ServiceError

    lease = client.lease("read", disc, name, timeout_s=timeout_s, copy=copy)
    try:
        yield OpticalDrive.for_target(lease["device"], xorriso)
    finally:
        try:
            client.release(int(lease["id"]))
        except ServiceError:
            pass  # the service restarted or reaped it: nothing is held any more
