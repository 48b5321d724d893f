"""A burn through the archive service: one lease per disc, the burn done here.

For each disc: ask the service for "a blank in a drive, to burn disc N" (it picks and loads
the blank, see `odarchive.app.service.scheduler`), burn the image with xorriso on the drive
it hands over, read it back and compare SHA-256, and give the lease back: the service
shelves the disc (verified) or puts the medium away as rejected (with the reason) and the
next blank is tried, up to `max_attempts`. One worker per drive; the service decides how
many drives burn at once (some stay free for reads while reads wait), and no burn is ever
interrupted. The `recorder` (`robot_burn.CatalogueRecorder`) writes the burn record.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from robot_drivers import errors
from robot_drivers.burn_job import BurnOutcome, BurnProgress, BurnRecorder, progress_callback, verify_medium
from robot_drivers.drives.optical import OpticalDrive

PROGRESS_INTERVAL_S = 30.0


@dataclass
class LeasedBurn:
    new_client: Callable[[], Any]  # -> ServiceClient (one per worker thread)
    recorder: BurnRecorder
    reporter: BurnProgress
    workers: int
    xorriso: str = "xorriso"
    max_attempts: int = 3
    media_timeout_s: float = 120.0
    copy: int = 0  # the set burned (0: the discs themselves, set A)

    def run(self, discs: list[int], total_bytes: int | None = None) -> list[BurnOutcome]:
        """Burn `discs`; what was verified. Raises the first robot error, or BurnFailed."""
        work: queue.Queue[int] = queue.Queue()
        for d in discs:
            work.put(d)
        done: list[BurnOutcome] = []
        failed: dict[int, str] = {}
        fatal: list[BaseException] = []
        stop = threading.Event()
        lock = threading.Lock()
        self.reporter.start("burn", total_items=len(discs), total_bytes=total_bytes)

        def worker() -> None:
            client = self.new_client()
            try:
                while not stop.is_set():
                    try:
                        disc = work.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        outcome = self._burn_disc(client, disc, stop)
                    except Exception as e:  # robot fault, service gone: stop everyone
                        fatal.append(e)
                        stop.set()
                        return
                    with lock:
                        if outcome is None:
                            failed[disc] = f"failed on {self.max_attempts} blank(s)"
                        else:
                            done.append(outcome)
            finally:
                client.close()

        threads = [threading.Thread(target=worker, name=f"burn-{n}", daemon=True) for n in range(max(1, self.workers))]
        for t in threads:
            t.start()
        try:
            while any(t.is_alive() for t in threads):
                for t in threads:
                    t.join(timeout=0.2)
        except KeyboardInterrupt:
            stop.set()
            raise
        finally:
            self.reporter.finish()
        if fatal:
            raise fatal[0]
        if failed:
            listing = "; ".join(f"disc {d}: {why}" for d, why in sorted(failed.items()))
            raise errors.BurnFailed(f"{len(failed)} disc(s) could not be burned: {listing}")
        return sorted(done, key=lambda o: o.disc)

    def _burn_disc(self, client: Any, disc: int, stop: threading.Event) -> BurnOutcome | None:
        image = self.recorder.image(disc)
        for attempt in range(1, self.max_attempts + 1):
            if stop.is_set():
                return None
            lease = client.lease("burn", disc, f"robot burn (pid {os.getpid()})", copy=self.copy)
            drive, blank_slot = int(lease["drive"]), lease.get("slot")
            dev = OpticalDrive.for_target(lease["device"], self.xorriso)
            self.reporter.event("burning", disc=disc, drive=drive, slot=blank_slot, label=image.label, attempt=attempt)
            t0 = time.monotonic()
            try:
                dev.wait_for_media(self.media_timeout_s)
                dev.burn(image.path, progress_callback(self.reporter, drive, disc, "burn", PROGRESS_INTERVAL_S))
                verify_medium(
                    dev, image, drive, progress_callback(self.reporter, drive, disc, "verify", PROGRESS_INTERVAL_S)
                )
            except (errors.BurnFailed, errors.UnreadableDisc, errors.DriveNotReady) as e:
                where = client.release(lease["id"], verified=False, reason=str(e))
                self.reporter.event("rejected", disc=disc, drive=drive, slot=where, reason=str(e))
                continue
            except BaseException:
                client.release(lease["id"], verified=False, reason="the burn was interrupted")
                raise
            burn_s = time.monotonic() - t0
            self.recorder.verified(disc, image.label, drive, blank_slot or 0, burn_s, image.sha256)
            shelf = client.release(lease["id"], verified=True)
            self.recorder.shelved(disc, shelf)
            self.reporter.event("verified", disc=disc, drive=drive, slot=shelf, seconds=round(burn_s, 3))
            self.reporter.advance(items=1)
            return BurnOutcome(disc, image.label, drive, shelf, burn_s, True)
        return None
