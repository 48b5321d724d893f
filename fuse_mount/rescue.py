"""Reads that fail on a disc: its other copies first, then its error correction.

`RescuingSource` wraps a `DiscSource`. When a read of the disc in a drive fails (a scratch:
the drive reports a read error there), or reads bytes that failed the fetcher's verification
before (`suspect`: bit rot that reads without an error), it loads the disc's copies (sets B, ...) in turn and
reads there (when the source can load one copy: `load_copy(drive, disc, copy)`); when no copy
serves, it asks its `Repairer` (given by the wiring layer, which
knows the catalogue and the error correction) for an image of the disc repaired with the
disc's own ECC: the whole disc is read (unreadable sectors as zeros), repaired, and checked
against the recorded SHA-256. That disc's reads are served from the repaired image from then
on. The log says which copy or the ECC served. Every byte still passes the fetcher's
verification before it is served.

Threads: like the source it wraps (one fetcher worker per drive calls `load` and `read`);
the repaired images are guarded by a lock.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from fuse_mount.catalogue_view import Disc
from fuse_mount.discs import DiscSource, loads_are_free
from fuse_mount.errors import CorruptData, DiscUnavailable
from robot_drivers.errors import RobotError

log = logging.getLogger("odarchive.mount.rescue")

READ_FAILURES = (DiscUnavailable, RobotError, OSError)


class Repairer(Protocol):
    def repair(self, disc: Disc, read: Callable[[int, int], bytes]) -> Path | None:
        """An image of `disc` repaired with its error correction, read with `read(offset,
        length)` from the disc in a drive; None when the disc has no ECC or it cannot repair it."""

    def close(self) -> None:
        """Remove the repaired images."""


class RescuingSource:
    """A `DiscSource` whose failed reads fall back to the disc's copies, then its ECC."""

    def __init__(self, inner: DiscSource, repairer: Repairer) -> None:
        self._inner = inner
        self._repairer = repairer
        self._disc_in: dict[int, Disc] = {}
        self._repaired: dict[int, Path] = {}
        self._beyond_repair: set[int] = set()
        self._suspect: dict[int, list[tuple[int, int]]] = {}  # disc -> (offset, length) read wrong
        self._lock = threading.Lock()

    @property
    def free_loads(self) -> bool:
        return loads_are_free(self._inner)

    def drive_count(self) -> int:
        return self._inner.drive_count()

    def loaded(self, drive: int) -> int | None:
        return self._inner.loaded(drive)

    def load(self, drive: int, disc: Disc) -> None:
        self._disc_in.pop(drive, None)
        self._inner.load(drive, disc)
        self._disc_in[drive] = disc

    def suspect(self, disc_id: int, ranges: list[tuple[int, int]]) -> None:
        """These bytes of the disc read without an error but failed verification: read them
        from its copies or its error correction from now on."""
        with self._lock:
            self._suspect.setdefault(disc_id, []).extend(ranges)

    def _suspected(self, disc_id: int, offset: int, length: int) -> bool:
        """Whether [offset, offset+length) of the disc overlaps bytes that read wrong."""
        with self._lock:
            return any(at < offset + length and offset < at + n for at, n in self._suspect.get(disc_id, ()))

    def read_into(self, drive: int, offset: int, buffer: memoryview) -> None:
        """Like `read`, into `buffer`: straight from the source when it can read into one and
        these bytes need no rescue (the common case), else a copy of what `read` returns."""
        disc = self._disc_in.get(drive)
        inner = getattr(self._inner, "read_into", None)
        if inner is None or disc is None or self._needs_rescue(disc.id, offset, len(buffer)):
            buffer[:] = self.read(drive, offset, len(buffer))
            return
        try:
            inner(drive, offset, buffer)
        except READ_FAILURES as e:
            buffer[:] = self._rescue(drive, disc, offset, len(buffer), e)

    def _needs_rescue(self, disc_id: int, offset: int, length: int) -> bool:
        """The disc was repaired (its reads come from the repaired image) or these bytes read wrong."""
        with self._lock:
            repaired = disc_id in self._repaired
        return repaired or self._suspected(disc_id, offset, length)

    def read(self, drive: int, offset: int, length: int) -> bytes:
        disc = self._disc_in.get(drive)
        with self._lock:
            repaired = self._repaired.get(disc.id) if disc is not None else None
        if repaired is not None:
            return _pread(repaired, offset, length)
        if disc is not None and self._suspected(disc.id, offset, length):
            wrong_bytes = CorruptData(
                f"disc {disc.id}: bytes at {offset} read wrong (they failed verification)",
                "neither a copy of the disc nor its error correction served them",
            )
            return self._rescue(drive, disc, offset, length, wrong_bytes)
        try:
            return self._inner.read(drive, offset, length)
        except READ_FAILURES as e:
            if disc is None:
                raise
            return self._rescue(drive, disc, offset, length, e)

    def _rescue(self, drive: int, disc: Disc, offset: int, length: int, error: Exception) -> bytes:
        load_copy = getattr(self._inner, "load_copy", None)
        for copy in range(1, 1 + len(disc.copy_slots)) if load_copy is not None else ():
            try:
                assert load_copy is not None  # (the loop runs only then)
                load_copy(drive, disc, copy)
                data = self._inner.read(drive, offset, length)
            except READ_FAILURES as e:
                log.warning("disc %d: its copy %d cannot be read at byte %d either (%s)", disc.id, copy, offset, e)
                continue
            log.warning(
                "disc %d: read error at byte %d (%s); served by its copy %d (set %s)",
                disc.id,
                offset,
                error,
                copy,
                chr(ord("A") + copy),
            )
            return data
        with self._lock:
            hopeless = disc.id in self._beyond_repair
        if hopeless:
            raise error
        log.warning(
            "disc %d: read error at byte %d (%s) and no copy serves; repairing the disc with its error"
            " correction (the whole disc is read)",
            disc.id,
            offset,
            error,
        )
        path = self._repairer.repair(disc, lambda at, n: self._inner.read(drive, at, n))
        with self._lock:
            if path is None:
                self._beyond_repair.add(disc.id)
            else:
                self._repaired[disc.id] = path
        if path is None:
            log.error("disc %d cannot be repaired with its error correction", disc.id)
            raise error
        log.warning("disc %d repaired with its error correction; its reads are served from %s", disc.id, path)
        return _pread(path, offset, length)

    def release(self, drive: int) -> None:
        self._inner.release(drive)

    def status(self) -> dict[str, Any]:
        out = self._inner.status()
        with self._lock:
            out["repaired_discs"] = sorted(self._repaired)
        return out

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._repairer.close()


def _pread(path: Path, offset: int, length: int) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.pread(fd, length, offset)
    finally:
        os.close(fd)
    if len(data) != length:
        raise DiscUnavailable(f"the repaired image {path} has no {length} bytes at {offset}")
    return data
