"""A burn job: burn, verify and shelve a list of discs with a changer and its drives.

For each disc: get its image (the caller builds it if needed), take a blank from the changer,
load it, burn with progress, verify (read the image's length back from the drive and compare
SHA-256), unload it to the slot it came from. A medium that fails its burn or verify is
rejected (unloaded, reported, never used again) and the disc is retried on another blank, up
to `max_attempts`. With several drives, one worker thread per drive burns in parallel; the
changer serialises the motions. What happened is reported through `BurnRecorder` as it
happens (verified, shelved, rejected), so an interrupted job leaves an exact record.

Fatal robot errors (jam, mechanism, communication, no blanks) stop every worker at its next
step and are raised after the workers stop; a drive that is not ready drops out and its disc
goes to the other drives. Slot changers take blanks from storage slots and shelve discs back
there; bin autoloaders and the manual driver take them from the "input" bin (see
`_plan_media`). Before starting, discs left in drives by an
earlier, interrupted run are put back into their slots (`recover`).

Knows nothing of odarchive: the caller passes the recorder and a reporter-like object.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from robot_drivers import errors
from robot_drivers.interfaces import (
    BLANK,
    DRIVE_LOADED,
    FULL,
    SLOT_KIND_BIN,
    SLOT_KIND_STORAGE,
    Changer,
    Drive,
    Inventory,
)

VERIFY_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class DiscImage:
    disc: int
    path: Path
    label: str
    size: int
    sha256: bytes


@dataclass(frozen=True)
class BurnOutcome:
    disc: int
    label: str
    drive: int
    slot: int | None  # where the disc was shelved (None: still in the drive)
    burn_s: float
    verified: bool


class BurnRecorder(Protocol):
    """What the job tells its caller; called from worker threads (implementations lock)."""

    def image(self, disc: int) -> DiscImage:
        """The disc's image, built now if needed."""

    def verified(self, disc: int, label: str, drive: int, slot: int, burn_s: float, sha256: bytes) -> None:
        """Disc burned from blank `slot` in `drive` and read back identical; not shelved yet."""

    def shelved(self, disc: int, slot: int | None) -> None:
        """The verified disc is in storage `slot` (None: in an output bin, or taken by hand)."""

    def rejected(self, disc: int | None, slot: int, reason: str) -> None:
        """The medium from `slot` is unusable (failed burn or verify, not blank); never pick it."""

    def is_done(self, label: str | None) -> bool:
        """The medium labelled `label` is a disc of ours already burned and verified."""

    def recovered(self, label: str | None, slot: int, blank: bool) -> None:
        """A medium left in a drive by an earlier run is back in `slot` (its label, if any)."""


class BurnProgress(Protocol):
    """The subset of odarchive's progress Reporter the job uses (duck-typed)."""

    def start(self, phase: str, total_items: int | None = None, total_bytes: int | None = None) -> None: ...
    def advance(self, items: int = 0, nbytes: int = 0) -> None: ...
    def event(self, kind: str, **fields: Any) -> None: ...
    def finish(self) -> None: ...


@dataclass
class BurnJob:
    changer: Changer
    drives: dict[int, Drive]
    recorder: BurnRecorder
    reporter: BurnProgress
    excluded_slots: set[int] = field(default_factory=set)  # burned discs, rejected media
    max_attempts: int = 3
    media_timeout_s: float = 120.0
    progress_interval_s: float = 30.0  # per-drive progress events at most this often
    _blanks: list[int] = field(default_factory=list)
    _pool_lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _fatal: list[BaseException] = field(default_factory=list)
    _failed: dict[int, str] = field(default_factory=dict)
    _dropped: list[errors.RobotError] = field(default_factory=list)
    _input_bin: int | None = None
    _output_bin: int | None = None
    _reject_bin: int | None = None
    _done: list[BurnOutcome] = field(default_factory=list)

    # ---- public ------------------------------------------------------------------------------

    def recover(self) -> list[int]:
        """Put media left in drives by an earlier run away; returns where they went.

        Slot changers say which drives are loaded and take each medium back to its slot. A bin
        autoloader cannot tell, so its drive is asked for a medium: a verified disc goes to
        the output bin, anything else to the reject bin.
        """
        inventory = self.changer.inventory()
        self._plan_media(inventory)
        bins = self._output_bin is not None
        refilled = []
        for info in inventory.drives:
            dev = self.drives.get(info.drive)
            if dev is None or not (info.state == DRIVE_LOADED or (bins and has_medium(dev))):
                continue
            try:
                dev.wait_for_media(self.media_timeout_s)
                label, blank = dev.volume_label(), dev.medium_size() == 0
            except errors.RobotError:
                label, blank = None, False
            dev.eject()
            target = (self._output_bin if self.recorder.is_done(label) else self._reject_bin) if bins else None
            slot = self.changer.unload(info.drive, target)
            refilled.append(slot)
            self.recorder.recovered(label, slot, blank)
            self.reporter.event("recovered", drive=info.drive, slot=slot, label=label)
        return refilled

    def run(self, discs: list[int], total_bytes: int | None = None) -> list[BurnOutcome]:
        """Burn `discs`; returns what was verified. Raises the first fatal error, or BurnFailed.

        Overall progress: items = discs verified, bytes = bytes burned by all drives (of
        `total_bytes`, the caller's estimate of the images' sizes, when given).
        """
        self.recover()
        self._plan_media(self.changer.inventory())  # again: recovery may have refilled slots
        work: queue.Queue[int] = queue.Queue()
        for d in discs:
            work.put(d)
        self.reporter.start("burn", total_items=len(discs), total_bytes=total_bytes)
        workers = [
            threading.Thread(target=self._worker, args=(n, work), name=f"burn-drive-{n}", daemon=True)
            for n in sorted(self.drives)
        ]
        for w in workers:
            w.start()
        try:
            while any(w.is_alive() for w in workers):
                for w in workers:
                    w.join(timeout=0.2)
        except KeyboardInterrupt:
            self._stop.set()
            for w in workers:
                w.join()
            raise
        finally:
            self.reporter.finish()
        if self._fatal:
            raise self._fatal[0]
        if not work.empty():  # every drive dropped out (not ready)
            raise self._dropped[0]
        if self._failed:
            listing = "; ".join(f"disc {d}: {why}" for d, why in sorted(self._failed.items()))
            raise errors.BurnFailed(f"{len(self._failed)} disc(s) could not be burned: {listing}")
        return sorted(self._done, key=lambda o: o.disc)

    def _plan_media(self, inventory: Inventory) -> None:
        """Where blanks come from and where burned and rejected media go.

        Slot changers: blanks are the storage slots that hold (or may hold) a blank and are not
        excluded; a medium goes back to the slot it came from. Bin machines (and the manual
        driver): blanks come from the "input" bin, which the job never counts; burned media go
        to the "output" bin and rejects to the "reject" bin when the machine has them.
        """
        bins = {s.name: s.slot for s in inventory.slots if s.kind == SLOT_KIND_BIN}
        self._input_bin = bins.get("input")
        self._output_bin = bins.get("output")
        self._reject_bin = bins.get("reject")
        self._blanks = [
            s.slot
            for s in inventory.slots
            if s.kind == SLOT_KIND_STORAGE and s.state in (BLANK, FULL) and s.slot not in self.excluded_slots
        ]

    # ---- one drive ---------------------------------------------------------------------------

    def _worker(self, drive: int, work: queue.Queue[int]) -> None:
        while not self._stop.is_set():
            try:
                disc = work.get_nowait()
            except queue.Empty:
                return
            try:
                self._burn_disc(drive, disc)
            except errors.DriveNotReady as e:  # this drive drops out; the others carry on
                work.put(disc)
                self._dropped.append(e)
                self.reporter.event("drive_failed", drive=drive, reason=str(e))
                return
            except Exception as e:  # jam, mechanism, communication, no blanks, bugs: stop everyone
                self._fatal.append(e)
                self._stop.set()

    def _take_blank(self) -> int:
        with self._pool_lock:
            if self._input_bin is not None:
                return self._input_bin
            if not self._blanks:
                raise errors.NoBlankMedia("no blank medium left in the changer")
            return self._blanks.pop(0)

    def _load_blank(self, drive: int) -> int:
        slot = self._take_blank()
        try:
            self.changer.load(slot, drive)
        except errors.EmptySlot as e:
            if slot == self._input_bin:
                raise errors.NoBlankMedia(f"the input bin is empty: {e}") from None
            raise
        except errors.DriveNotReady:
            if slot != self._input_bin:
                with self._pool_lock:
                    self._blanks.insert(0, slot)  # untouched: another drive may use it
            raise
        return slot

    def _burn_disc(self, drive: int, disc: int) -> None:
        image = self.recorder.image(disc)
        attempts = 0
        dev = self.drives[drive]
        while attempts < self.max_attempts and not self._stop.is_set():
            slot = self._load_blank(drive)
            dev.wait_for_media(self.media_timeout_s)
            if dev.medium_size() != 0:
                why = f"not blank ({dev_label(dev)})"
                self.recorder.rejected(None, self._put_back(drive, slot, self._reject_bin), why)
                continue
            attempts += 1
            self.reporter.event("burning", disc=disc, drive=drive, slot=slot, label=image.label, attempt=attempts)
            t0 = time.monotonic()
            try:
                dev.burn(image.path, self._progress(drive, disc, "burn"))
                self._verify(dev, image, drive)
            except (errors.BurnFailed, errors.UnreadableDisc) as e:
                where = self._put_back(drive, slot, self._reject_bin)
                self.recorder.rejected(disc, where, str(e))
                self.reporter.event("rejected", disc=disc, drive=drive, slot=where, reason=str(e))
                continue
            burn_s = time.monotonic() - t0
            self.recorder.verified(disc, image.label, drive, slot, burn_s, image.sha256)
            shelf: int | None = self._put_back(drive, slot, self._output_bin)
            if self._input_bin is not None:
                shelf = None  # a bin or a person has it, not a storage slot
            self.recorder.shelved(disc, shelf)
            self._done.append(BurnOutcome(disc, image.label, drive, shelf, burn_s, True))
            self.reporter.event("verified", disc=disc, drive=drive, slot=shelf, seconds=round(burn_s, 3))
            self.reporter.advance(items=1)
            return
        if not self._stop.is_set():
            self._failed[disc] = f"failed on {attempts} blank(s)"

    def _put_back(self, drive: int, slot: int, bin_slot: int | None) -> int:
        """Unload to `bin_slot` when the machine has that bin, else back to `slot`; the slot used."""
        self.drives[drive].eject()
        if bin_slot is not None:
            return self.changer.unload(drive, bin_slot)
        if slot == self._input_bin:  # manual: the person takes it
            return self.changer.unload(drive, None)
        return self.changer.unload(drive, slot)

    def _verify(self, dev: Drive, image: DiscImage, drive: int) -> None:
        verify_medium(dev, image, drive, self._progress(drive, image.disc, "verify"))

    def _progress(self, drive: int, disc: int, phase: str) -> Any:
        return progress_callback(self.reporter, drive, disc, phase, self.progress_interval_s)


def verify_medium(dev: Drive, image: DiscImage, drive: int, progress: Any) -> None:
    """Read the image's length back from `dev` and compare SHA-256; BurnFailed if it differs."""
    digest = hashlib.sha256()
    offset = 0
    while offset < image.size:
        n = min(VERIFY_CHUNK, image.size - offset)
        digest.update(dev.read(offset, n))
        offset += n
        progress(offset, image.size)
    if digest.digest() != image.sha256:
        raise errors.BurnFailed(f"disc {image.disc} read back from drive {drive} differs from its image")


def progress_callback(reporter: BurnProgress, drive: int, disc: int, phase: str, interval_s: float) -> Any:
    """A progress callback: burned bytes go to the overall progress as they come; the
    drive's own progress is an event every `interval_s` (the `burning` and `verified`
    events already mark each disc's start and end)."""
    last = [time.monotonic()]
    counted = [0]

    def report(done: int, total: int) -> None:
        if phase == "burn" and done > counted[0]:
            reporter.advance(nbytes=done - counted[0])
            counted[0] = done
        now = time.monotonic()
        if now - last[0] >= interval_s:
            last[0] = now
            reporter.event("drive", drive=drive, disc=disc, phase=phase, done=done, total=total)

    return report


def has_medium(dev: Drive) -> bool:
    try:
        dev.wait_for_media(0.0)
    except errors.RobotError:
        return False
    return True


def dev_label(dev: Drive) -> str:
    try:
        return dev.volume_label() or "no label"
    except errors.RobotError:
        return "unreadable"
