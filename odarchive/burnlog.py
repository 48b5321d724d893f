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
import time
from dataclasses import dataclass

from odarchive.catalogue import Catalogue


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

    def _execute(self, sql: str, args: tuple[object, ...] = ()) -> None:
        with self.lock, self.cat.transaction() as conn:
            conn.execute(sql, args)

    def _query(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple]:
        with self.lock:
            return self.cat.conn.execute(sql, args).fetchall()

    def discs(self) -> list[BurnedDisc]:
        rows = self._query("SELECT id, label, state, slot, burn_drive, burned_ns, verified_ns FROM discs ORDER BY id")
        return [BurnedDisc(*r) for r in rows]

    def plan_labels(self) -> set[str]:
        return {r[0] for r in self._query("SELECT DISTINCT label FROM discs")}

    def planned_copies(self) -> set[int]:
        """Discs that have a copy row for this log's set (copy >= 1)."""
        return {r[0] for r in self._query("SELECT disc_id FROM disc_copies WHERE copy=?", (self.copy,))}

    def verified(self) -> set[int]:
        if self.copy:
            return {
                r[0]
                for r in self._query("SELECT disc_id FROM disc_copies WHERE copy=? AND state='verified'", (self.copy,))
            }
        return {r[0] for r in self._query("SELECT id FROM discs WHERE state='verified'")}

    def verified_any(self) -> set[int]:
        """Discs with a verified copy in any set."""
        return {
            r[0]
            for r in self._query(
                "SELECT id FROM discs WHERE state='verified' UNION"
                " SELECT disc_id FROM disc_copies WHERE state='verified'"
            )
        }

    def shelve_found(self, disc: int, slot: int) -> None:
        """A verified medium of `disc` was found to be in `slot` (after a crash or a jam). All
        copies carry the same label, so it is recorded for the copy whose slot that already
        is, else for the first verified copy whose slot is not known."""
        with self.lock, self.cat.transaction() as conn:
            rows = list(
                conn.execute(
                    "SELECT 0, slot FROM discs WHERE id=? AND state='verified' UNION ALL"
                    " SELECT copy, slot FROM disc_copies WHERE disc_id=? AND state='verified'"
                    " ORDER BY 1",
                    (disc, disc),
                )
            )
            if any(s == slot for _, s in rows):
                return
            for copy, s in rows:
                if s is None:
                    if copy:
                        conn.execute("UPDATE disc_copies SET slot=? WHERE disc_id=? AND copy=?", (slot, disc, copy))
                    else:
                        conn.execute("UPDATE discs SET slot=? WHERE id=?", (slot, disc))
                    return

    def slots_in_use(self) -> set[int]:
        """Slots a burn must not take a blank from: our burned discs and copies, rejected media."""
        rows = self._query(
            "SELECT slot FROM discs WHERE slot IS NOT NULL UNION SELECT slot FROM disc_copies"
            " WHERE slot IS NOT NULL UNION SELECT slot FROM rejected_media"
        )
        return {r[0] for r in rows}

    def disc_by_slot(self) -> dict[int, int]:
        rows = self._query(
            "SELECT id, slot FROM discs WHERE slot IS NOT NULL UNION ALL"
            " SELECT disc_id, slot FROM disc_copies WHERE slot IS NOT NULL"
        )
        return {slot: disc for disc, slot in rows}

    def record_verified(self, disc: int, drive: int, burn_s: float) -> None:
        """Burned and read back identical; the disc is still in `drive` (slot unknown until shelved)."""
        now = time.time_ns()
        if self.copy:
            self._execute(
                "UPDATE disc_copies SET state='verified', slot=NULL, location=NULL, burn_drive=?,"
                " burned_ns=?, verified_ns=? WHERE disc_id=? AND copy=?",
                (drive, now, now, disc, self.copy),
            )
            return
        self._execute(
            "UPDATE discs SET state='verified', slot=NULL, burn_drive=?, burned_ns=?, burn_seconds=?, verified_ns=?"
            " WHERE id=?",
            (drive, now, burn_s, now, disc),
        )

    def record_shelved(self, disc: int, slot: int | None) -> None:
        if self.copy:
            self._execute("UPDATE disc_copies SET slot=? WHERE disc_id=? AND copy=?", (slot, disc, self.copy))
        else:
            self._execute("UPDATE discs SET slot=? WHERE id=?", (slot, disc))

    def record_rejected(self, disc: int | None, slot: int, reason: str) -> None:
        self._execute(
            "INSERT INTO rejected_media (slot, disc_id, reason, at_ns) VALUES (?,?,?,?)",
            (slot, disc, reason, time.time_ns()),
        )

    def rejected(self) -> list[tuple[int, int | None, str]]:
        return [tuple(r) for r in self._query("SELECT slot, disc_id, reason FROM rejected_media ORDER BY rowid")]

    def moved(self, old: int | None, new: int | None, location: str | None = None) -> None:
        """A medium went from slot `old` to slot `new` (None: out of the changer, or in from
        outside): a burned disc's slot follows it, and so does a rejection. A disc taken out
        keeps `location`, where a person keeps it ("shelf 3"); one put back loses it."""
        with self.lock, self.cat.transaction() as conn:
            if old is not None and new is None:
                conn.execute("UPDATE discs SET location=? WHERE slot=?", (location, old))
                conn.execute("UPDATE disc_copies SET location=? WHERE slot=?", (location, old))
            elif old is not None:
                conn.execute("UPDATE discs SET location=NULL WHERE slot=?", (old,))
                conn.execute("UPDATE disc_copies SET location=NULL WHERE slot=?", (old,))
            if new is not None:  # whatever was recorded in the destination is not there any more
                conn.execute("DELETE FROM rejected_media WHERE slot=?", (new,))
            if old is not None:
                conn.execute("UPDATE discs SET slot=? WHERE slot=?", (new, old))
                conn.execute("UPDATE disc_copies SET slot=? WHERE slot=?", (new, old))
                if new is None:
                    conn.execute("DELETE FROM rejected_media WHERE slot=?", (old,))
                else:
                    conn.execute("UPDATE rejected_media SET slot=? WHERE slot=?", (new, old))
