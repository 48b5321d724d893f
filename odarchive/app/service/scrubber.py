"""The service's background scrub (`[service] scrub`, e.g. "30d"; "off"): discs read back
while nothing else needs a drive, never delaying a read or a burn.

One thread of the service looks every `poll_s`. When no request came since its last look,
none waits, no job runs and a drive is free, it takes the copy in the changer checked
longest ago, if that was longer ago than the interval (`odarchive.app.scrub.next_due`), asks
for a *background* read lease of it (scheduler rule 5: it comes after every other request,
and fails at once if another one waits for a drive before it has its own) and scrubs it with
`scrub_copy` in the drive it was given. Before each block read it asks `Scheduler.wanted()`
and whether a robot command is queued: when a read or a burn waits for a drive, or a person
moves media, it stops there, records nothing and gives the drive
back (the waiting request gets it after one disc swap), and takes that copy up again the next
time the service is idle. A copy that cannot be loaded (its slot empty, a robot fault) is
skipped for an hour (or the interval, if shorter), then tried again.

Each copy scrubbed is one health record (`odarchive.health`) and one log line
(`event=scrub.done disc=N copy=C result=...`); the status shows the drive as "scrubbing disc
N (set X)" and a `scrub` block (`snapshot`), with the copies whose last scrub asks for a
replacement (`attention`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from odarchive.app.context import Context
from odarchive.app.scrub import next_due, scrub_copy
from odarchive.app.service.leases import LeaseFailed, LeaseManager
from odarchive.copies import set_name
from odarchive.health import BurnedCopy, needing_attention

log = logging.getLogger("odarchive.service")
CLIENT = "background scrub"
RETRY_S = 3600.0  # a copy that could not be loaded is tried again after this long (or the interval)


def poll_interval(every_s: float) -> float:
    """How often the thread looks: a tenth of the interval, between 0.2 s and a minute."""
    return min(max(every_s / 10, 0.2), 60.0)


class BackgroundScrub:
    def __init__(
        self,
        ctx: Context,
        leases: LeaseManager,
        every: str,
        every_s: float,
        jobs_busy: Callable[[], int] = lambda: 0,
    ) -> None:
        self.ctx, self.leases, self.every, self.every_s = ctx, leases, every, every_s
        self.jobs_busy = jobs_busy
        self.poll_s = poll_interval(every_s)
        self.current: dict[str, Any] | None = None  # the copy being read now
        self.last: dict[str, Any] | None = None  # the last result recorded
        self.scrubbed = 0
        self.gave_way = 0
        self.skipped: dict[tuple[int, int], tuple[str, float]] = {}  # copies that could not be loaded: why, until
        self.retry_s = min(every_s, RETRY_S)
        self.attention: list[dict[str, Any]] | None = None  # copies whose last scrub asks for a replacement
        self._seen = -1  # requests submitted at the last look
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="odarchive-scrub", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop (a copy being read gives its drive back at the next block)."""
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(30.0)

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                if self._idle():
                    self._scrub_next()
            except Exception:  # never lose the thread; the next look tries again
                log.exception("background scrub: unexpected error")

    def _idle(self) -> bool:
        """Nothing asked since the last look, nothing waits, no job or robot command runs, a
        drive is free."""
        with self.leases.lock:
            s = self.leases.scheduler
            quiet, self._seen = s.submitted == self._seen, s.submitted
            free = any(d.free for d in s.drives.values())
            return quiet and not s.requests and free and not self.leases.commands and not self.jobs_busy()

    def _scrub_next(self) -> None:
        if not self.ctx.home.catalogue.exists():
            return
        with self.ctx.open_catalogue() as cat:
            if self.attention is None:
                self.attention = needing_attention(cat)
            now = time.time()
            skip = {key for key, (_, until) in self.skipped.items() if until > now}
            copy = next_due(cat, time.time_ns() - int(self.every_s * 1e9), skip=skip)
            if copy is None:
                return
            try:
                info = self.leases.acquire_blocking("read", copy.disc, CLIENT, None, copy.copy, background=True)
            except LeaseFailed as e:
                self._not_granted(copy, e.message)
                return
            drive = info.request.drive
            assert drive is not None
            started = time.monotonic()
            with self.leases.lock:
                self.leases.activity[drive] = f"scrubbing disc {copy.disc} (set {set_name(copy.copy)})"
                self.current = {
                    "disc": copy.disc,
                    "copy": copy.copy,
                    "set": set_name(copy.copy),
                    "drive": drive,
                    "since": time.time(),
                    "bytes": copy.image_size,
                }
            try:
                result = scrub_copy(
                    cat, self.leases.motions.robot.drives[drive], copy, self.ctx.home.root, stop=self._give_way
                )
            finally:
                self.current = None
                self.leases.release(info.request.id)
            self._finished(copy, drive, result, time.monotonic() - started)
            self.attention = needing_attention(cat)

    def _give_way(self) -> bool:
        """Asked before each block: stop when the service stops, a read or burn waits, or a
        robot command is queued (`robot unload` of this drive, say)."""
        if self._stop.is_set():
            return True
        with self.leases.lock:
            return self.leases.scheduler.wanted() or self.leases.commands > 0

    def _not_granted(self, copy: BurnedCopy, message: str) -> None:
        if message.startswith("gave way"):
            self.gave_way += 1
            log.info("event=scrub.gave_way disc=%d copy=%d before=load", copy.disc, copy.copy)
            return
        self.skipped[(copy.disc, copy.copy)] = (message, time.time() + self.retry_s)
        log.warning("event=scrub.skipped disc=%d copy=%d reason=%r", copy.disc, copy.copy, message)

    def _finished(self, copy: BurnedCopy, drive: int, result: dict[str, Any] | None, elapsed: float) -> None:
        if result is None:
            self.gave_way += 1
            log.info("event=scrub.gave_way disc=%d copy=%d drive=%d after_s=%.3f", copy.disc, copy.copy, drive, elapsed)
            return
        self.scrubbed += 1
        self.last = {**result, "set": set_name(copy.copy), "drive": drive, "at": time.time()}
        log.log(
            logging.INFO if result["result"] == "ok" else logging.WARNING,
            "event=scrub.done disc=%d copy=%d drive=%d result=%s corrected=%d unreadable=%d read_mb_s=%.1f",
            copy.disc,
            copy.copy,
            drive,
            result["result"],
            result["corrected_sectors"],
            result["unreadable_sectors"],
            result["read_bytes_per_s"] / 1e6,
        )

    def snapshot(self) -> dict[str, Any]:
        """The status's `scrub` block (docs/service.md)."""
        return {
            "every": self.every,
            "current": self.current,
            "last": self.last,
            "scrubbed": self.scrubbed,
            "gave_way": self.gave_way,
            "skipped": [
                {"disc": d, "copy": c, "reason": why, "until": until}
                for (d, c), (why, until) in sorted(self.skipped.items())
            ],
            "attention": [
                {k: h[k] for k in ("disc", "copy", "set", "result", "at_ns", "detail")} for h in self.attention or []
            ],
        }
