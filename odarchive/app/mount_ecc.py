"""The mount's last resort for a disc that fails a read: repair it with its error correction.

`EccRepairer` is the `fuse_mount.rescue.Repairer` the wiring layer gives the mount's disc
source. For a disc whose image was written with ECC, it reads the whole disc from the drive
into a scratch file under the home (`.mount-ecc-*`; unreadable sectors as zeros, as scrub
reads it: `odarchive.app.scrub.read_back`), repairs the file with dvdisaster
(`odarchive.ecc.tool.repair`) and keeps it only if it is then exactly the planned image
(recorded size and SHA-256). The scratch directory goes when the mount closes.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from fuse_mount.catalogue_view import Disc

log = logging.getLogger("odarchive.mount.rescue")


class _Reads:
    """A drive-like reader for `read_back`: read failures become `UnreadableDisc`."""

    def __init__(self, read: Callable[[int, int], bytes]) -> None:
        self._read = read

    def read(self, offset: int, length: int) -> bytes:
        from robot_drivers.errors import UnreadableDisc

        try:
            return self._read(offset, length)
        except UnreadableDisc:
            raise
        except Exception as e:
            raise UnreadableDisc(str(e)) from e


class EccRepairer:
    def __init__(self, catalogue: Path, scratch_root: Path) -> None:
        self._catalogue = catalogue
        self._root = scratch_root
        self._dir: Path | None = None

    def repair(self, disc: Disc, read: Callable[[int, int], bytes]) -> Path | None:
        from odarchive.app.scrub import read_back
        from odarchive.catalogue import Catalogue
        from odarchive.catalogue import discs as disc_rows
        from odarchive.ecc import formats, tool
        from odarchive.errors import OdarchiveError
        from odarchive.planned_image import mismatch, planned_image

        with Catalogue.open(self._catalogue, readonly=True, check_same_thread=False) as cat:
            planned = planned_image(cat, disc.id)
            has_ecc = disc_rows.ecc(cat.conn, disc.id) is not None
        if not has_ecc or planned.size is None or not tool.available():
            return None
        if self._dir is None:
            self._root.mkdir(parents=True, exist_ok=True)
            self._dir = Path(tempfile.mkdtemp(prefix=".mount-ecc-", dir=self._root))
        path = self._dir / f"disc-{disc.id:04d}.iso"
        try:
            with open(path, "wb") as out:
                _sha, bad, _rate = read_back(_Reads(read), planned.size, out)
            log.info("disc %d read for repair: %d unreadable sector(s)", disc.id, bad)
            if not formats.has_ecc(path):
                raise OdarchiveError(f"disc {disc.id}: its error correction cannot be found on the disc")
            result = tool.repair(path)
            why = mismatch(path, planned) if result.ok else f"{result.unrepaired_sectors} sector(s) beyond repair"
        except OdarchiveError as e:
            why = e.message
        if why is not None:
            log.error("disc %d: repair with its error correction failed: %s", disc.id, why)
            path.unlink(missing_ok=True)
            return None
        return path

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
