"""The burn record in the catalogue: which discs are burned and verified, and in which slot.

`robot burn` writes here as each disc is verified, shelved or its medium rejected, so an
interrupted or failed burn leaves an exact record and the next run skips what is done.
`BurnLog(cat, copy=K)` records set K's copies (`disc_copies`, odarchive.copies) instead of
the discs themselves (copy 0). Core
module: knows the catalogue, not the robot. Thread-safe (one lock around the connection): the
burn job reports from one worker thread per drive.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from odarchive.catalogue import Catalogue, burns


@dataclass(frozen=True)
class BurnedDisc:
    disc: int
    label: str
    state: str
    slot: int | None
    burn_drive: int | None
    burned_ns: int | None
    verified_ns: int | None


class BurnLog:
    def __init__(self, cat: Catalogue, copy: int = 0) -> None:
        self.cat = cat
        self.copy = copy
        self.lock = threading.RLock()  # shared by everyone using `cat` from the job's threads

    def discs(self) -> list[BurnedDisc]:
        with self.lock:
            return [BurnedDisc(*r) for r in burns.discs(self.cat.conn)]

    def plan_labels(self) -> set[str]:
        with self.lock:
            return burns.plan_labels(self.cat.conn)

    def planned_copies(self) -> set[int]:
        """Discs that have a copy row for this log's set (copy >= 1)."""
        with self.lock:
            return burns.with_copy(self.cat.conn, self.copy)

    def verified(self) -> set[int]:
        with self.lock:
            return burns.verified(self.cat.conn, self.copy)

    def verified_any(self) -> set[int]:
        """Discs with a verified copy in any set."""
        with self.lock:
            return burns.verified_any(self.cat.conn)

    def shelve_found(self, disc: int, slot: int) -> None:
        """A verified medium of `disc` was found to be in `slot` (after a crash or a jam). All
        copies carry the same label, so it is recorded for the copy whose slot that already
        is, else for the first verified copy whose slot is not known."""
        with self.lock, self.cat.transaction() as conn:
            rows = burns.verified_slots(conn, disc)
            if any(s == slot for _, s in rows):
                return
            for copy, s in rows:
                if s is None:
                    burns.set_slot(conn, disc, copy, slot)
                    return

    def slots_in_use(self) -> set[int]:
        """Slots a burn must not take a blank from: our burned discs and copies, rejected media."""
        with self.lock:
            return burns.slots_in_use(self.cat.conn)

    def disc_by_slot(self) -> dict[int, int]:
        with self.lock:
            return burns.disc_by_slot(self.cat.conn)

    def record_verified(self, disc: int, drive: int, burn_s: float) -> None:
        """Burned and read back identical; the disc is still in `drive` (slot unknown until shelved)."""
        with self.lock, self.cat.transaction() as conn:
            burns.set_verified(conn, disc, self.copy, drive, burn_s)

    def record_shelved(self, disc: int, slot: int | None) -> None:
        with self.lock, self.cat.transaction() as conn:
            burns.set_slot(conn, disc, self.copy, slot)

    def record_rejected(self, disc: int | None, slot: int, reason: str) -> None:
        with self.lock, self.cat.transaction() as conn:
            burns.add_rejected(conn, disc, slot, reason)

    def rejected(self) -> list[tuple[int, int | None, str]]:
        with self.lock:
            return burns.rejected(self.cat.conn)

    def moved(self, old: int | None, new: int | None, location: str | None = None) -> None:
        """A medium went from slot `old` to slot `new` (None: out of the changer, or in from
        outside): a burned disc's slot follows it, and so does a rejection. A disc taken out
        keeps `location`, where a person keeps it ("shelf 3"); one put back loses it."""
        with self.lock, self.cat.transaction() as conn:
            burns.move(conn, old, new, location)
