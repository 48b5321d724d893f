"""The mount's discs through the archive service: a `fuse_mount.discs.DiscSource` of leases.

Each fetcher worker ("drive" in the fetcher's words) asks the service for a lease on the
disc it wants ("disc N in a drive, for reading"), reads the extents itself from the device
the service hands over, and gives the lease back when its batch is done (`release`), so a
burn or another client can have the drive. The service decides which drive and when
(docs/service.md); a read that cannot be had within `timeout_s` fails with the service's
message naming the disc, which the mount turns into EIO. If the service died (kill -9),
the next load starts it again (it reconciles the drives with the changer) and retries once.

Threads: one fetcher worker per index, each with its own `ServiceClient`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fuse_mount.catalogue_view import Disc
from fuse_mount.errors import DiscUnavailable
from odarchive.app.service.client import ServiceClient, ServiceError, ServiceUnreachable
from odarchive.home import Home
from robot_drivers.drives.optical import OpticalDrive

log = logging.getLogger(__name__)


class ServiceSource:
    def __init__(
        self,
        home: Home,
        workers: int,
        client_name: str,
        timeout_s: float,
        xorriso: str = "xorriso",
        restart: Callable[[], object] = lambda: None,
    ) -> None:
        self._home, self._name, self._timeout_s, self._xorriso = home, client_name, timeout_s, xorriso
        self._restart = restart  # starts the service again if it died (kill -9, a crash)
        self._clients: list[ServiceClient | None] = [None] * workers
        self._leases: list[dict[str, Any] | None] = [None] * workers
        self._devs: list[OpticalDrive | None] = [None] * workers

    def _client(self, worker: int) -> ServiceClient:
        client = self._clients[worker]
        if client is None:
            client = self._clients[worker] = ServiceClient(self._home)
        return client

    def drive_count(self) -> int:
        return len(self._leases)

    def loaded(self, drive: int) -> int | None:
        lease = self._leases[drive]
        return int(lease["disc"]) if lease else None

    def load(self, drive: int, disc: Disc) -> None:
        self.load_copy(drive, disc, None)

    def load_copy(self, drive: int, disc: Disc, copy: int | None) -> None:
        """Lease copy `copy` of `disc` (0: set A, 1: set B, ...; None: whichever serves)."""
        self.release(drive)
        try:
            try:
                lease = self._client(drive).lease("read", disc.id, self._name, timeout_s=self._timeout_s, copy=copy)
            except ServiceUnreachable:
                self._restart()
                lease = self._client(drive).lease("read", disc.id, self._name, timeout_s=self._timeout_s, copy=copy)
        except ServiceError as e:
            raise DiscUnavailable(e.message, e.hint) from None
        for note in lease.get("notes") or []:  # a copy failed and another served (logged where people look)
            log.warning("%s", note)
        self._leases[drive] = lease
        self._devs[drive] = OpticalDrive.for_target(lease["device"], self._xorriso)

    def read(self, drive: int, offset: int, length: int) -> bytes:
        dev = self._devs[drive]
        if dev is None:
            raise DiscUnavailable(f"no disc leased for fetcher worker {drive}")
        return dev.read(offset, length)

    def release(self, drive: int) -> None:
        """Give worker `drive`'s lease back (its batch is done)."""
        lease, self._leases[drive], self._devs[drive] = self._leases[drive], None, None
        if lease is not None:
            try:
                self._client(drive).release(int(lease["id"]))
            except ServiceError:
                pass  # the service restarted or reaped it: nothing is held any more

    def status(self) -> dict[str, Any]:
        return {
            "kind": "service",
            "drives": [
                {
                    "drive": i,
                    "name": lease["device"] if lease else None,
                    "disc": lease["disc"] if lease else None,
                    "service_drive": lease["drive"] if lease else None,
                    "fault": None,
                }
                for i, lease in enumerate(self._leases)
            ],
        }

    def close(self) -> None:
        for n in range(len(self._leases)):
            self.release(n)
        for client in self._clients:
            if client is not None:
                client.close()
