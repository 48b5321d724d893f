"""Leases in the running service: the scheduler's decisions carried out on the robot.

`LeaseManager` holds the `Scheduler`, one robot thread that performs every motion in turn
(`Motions`), and a reaper that gives back the leases and requests of clients whose process
died (their pid is sent with the request; the socket is local). `acquire` is awaited by the
HTTP handler until the lease is granted or fails; `release` hands a drive back (a burn's
medium is shelved, or rejected, on the robot thread). Robot commands (`robot load`, `reset`,
...) run on the same thread between scheduled motions (`run_motion`).

Threads: HTTP handlers (the event loop), the robot thread and the reaper; `lock` guards the
scheduler and the leases. One log line per state change (logger "odarchive.service").
"""

from __future__ import annotations

import asyncio
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from odarchive.app.service.motions import DiscFailed, MotionError, Motions
from odarchive.app.service.scheduler import BURN, READ, Fail, Grant, Load, LoadBlank, Request, Scheduler
from odarchive.jobs import pid_alive
from robot_drivers import errors

log = logging.getLogger("odarchive.service")
REAP_INTERVAL_S = 0.5


@dataclass
class LeaseInfo:
    """What the service keeps about a granted lease beyond the scheduler's request."""

    request: Request
    device: str
    slot: int | None = None  # burns: where the blank came from
    notes: list[str] = field(default_factory=list)  # reads: copies that failed before one served
    events: list[asyncio.Event] = field(default_factory=list)


class LeaseManager:
    def __init__(
        self,
        motions: Motions,
        scheduler: Scheduler,
        on_change: Callable[[], None],
        on_fault: Callable[[str, int | None, int | None], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.motions, self.scheduler, self.clock = motions, scheduler, clock
        self.on_change = on_change  # inventory refresh after motions
        self.on_fault = on_fault  # recorded for the status snapshot
        self.lock = threading.RLock()
        self.leases: dict[int, LeaseInfo] = {}
        self.activity: dict[int, str] = {}  # drive -> what it does now (for status)
        self._waiters: dict[int, Callable[[], object]] = {}  # request id -> wakes its waiter
        self._blank_slot: dict[int, int | None] = {}  # burn request id -> blank slot
        self._load_notes: dict[int, list[str]] = {}  # drive -> what its last load said, for its first lease
        self.commands = 0  # robot commands queued or running (the background scrub gives way to them)
        self._work: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._robot_thread, name="odarchive-robot", daemon=True),
            threading.Thread(target=self._reaper, name="odarchive-reaper", daemon=True),
        ]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def close(self) -> None:
        self._stop.set()
        self._work.put(None)
        for t in self._threads:
            if t.ident is not None:
                t.join(10.0)

    # ---- clients ----
    async def acquire(
        self, kind: str, disc: int, client: str, pid: int | None, timeout_s: float | None, copy: int | None = None
    ) -> LeaseInfo:
        """Wait until a lease is granted (returned) or fails (MotionError with the reason)."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        r = self._submit(kind, disc, client, pid, timeout_s, lambda: loop.call_soon_threadsafe(event.set), copy)
        try:
            await event.wait()  # deadlines are checked by the reaper's `_decide`
        except asyncio.CancelledError:
            with self.lock:
                self._abandon(r)
            raise
        return self._outcome(r)

    def acquire_blocking(
        self,
        kind: str,
        disc: int,
        client: str,
        timeout_s: float | None = None,
        copy: int | None = None,
        background: bool = False,
    ) -> LeaseInfo:
        """`acquire` for a thread of the service itself (its burn jobs; its scrub, `background`:
        scheduler rule 5)."""
        event = threading.Event()
        r = self._submit(kind, disc, client, None, timeout_s, event.set, copy, background)
        event.wait()
        return self._outcome(r)

    def _submit(
        self,
        kind: str,
        disc: int,
        client: str,
        pid: int | None,
        timeout_s: float | None,
        wake: Callable[[], object],
        copy: int | None,
        background: bool = False,
    ) -> Request:
        with self.lock:
            timeout = timeout_s if kind == READ else None
            r = self.scheduler.submit(kind, disc, client, self.clock(), timeout, pid, copy, background)
            self._waiters[r.id] = wake
            log.info(
                "event=lease.requested id=%d kind=%s disc=%d copy=%s client=%r",
                r.id,
                kind,
                disc,
                "-" if copy is None else copy,
                client,
            )
            self._decide()
        return r

    def _outcome(self, r: Request) -> LeaseInfo:
        with self.lock:
            self._waiters.pop(r.id, None)
            if r.error is not None:
                raise LeaseFailed(r.error)
            return self.leases[r.id]

    def release(self, lease_id: int, verified: bool = True, reason: str = "") -> Future[int | None]:
        """Give lease `lease_id` back; for a burn, the future's result is the slot its medium
        went to (`verified`: shelved; else rejected with `reason`)."""
        done: Future[int | None] = Future()
        with self.lock:
            info = self.leases.pop(lease_id, None)
            if info is None:
                done.set_exception(KeyError(lease_id))
                return done
            r = info.request
            log.info("event=lease.released id=%d kind=%s disc=%d drive=%s", r.id, r.kind, r.disc, r.drive)
            if r.drive is not None and not self.scheduler.drives[r.drive].leases[1:]:
                self.activity.pop(r.drive, None)  # its last reader is done: the drive just holds its disc
            if not self.scheduler.release(r):
                done.set_result(None)
                self._decide()
                return done
        assert r.drive is not None
        self._work.put(lambda: self._put_away(r.drive, r.disc, verified, reason, done))  # type: ignore[arg-type]
        return done

    def _abandon(self, r: Request) -> None:
        """The client of `r` went away: cancel it, or give back what it was granted."""
        self._waiters.pop(r.id, None)
        if r.granted is None:
            self.scheduler.cancel(r, "the client went away")
        elif r.id in self.leases:
            self.release(r.id, verified=False, reason="burn interrupted: its client went away")

    def run_motion(self, fn: Callable[[], Any]) -> Future[Any]:
        """Run `fn` on the robot thread (robot commands), after the motions queued before it."""
        done: Future[Any] = Future()

        def job() -> None:
            try:
                done.set_result(fn())
            except BaseException as e:
                done.set_exception(e)
            finally:
                with self.lock:
                    self.commands -= 1
                self.on_change()

        with self.lock:
            self.commands += 1
        self._work.put(job)
        return done

    # ---- deciding and carrying out ----
    def kick(self) -> None:
        """Decide again now (after a robot command changed what the drives hold)."""
        with self.lock:
            self._decide()

    def _decide(self) -> None:
        """Ask the scheduler what to do now and do it (holds `lock`)."""
        for a in self.scheduler.decide(self.clock()):
            if isinstance(a, Grant):
                self._granted(a.request, a.drive)
            elif isinstance(a, Fail):
                log.info("event=lease.failed id=%d disc=%d reason=%r", a.request.id, a.request.disc, a.message)
                self._wake(a.request.id)
            elif isinstance(a, Load):
                self.activity[a.drive] = f"loading disc {a.disc}"
                self._work.put(functools.partial(self._load, a.drive, a.disc, a.copy))
            elif isinstance(a, LoadBlank):
                self.activity[a.drive] = f"loading a blank for disc {a.request.disc}"
                self._work.put(functools.partial(self._load_blank, a.drive, a.request))

    def _granted(self, r: Request, drive: int) -> None:
        device = self.motions.robot.drives[drive].name
        self.leases[r.id] = LeaseInfo(r, device, self._blank_slot.pop(r.id, None), self._load_notes.pop(drive, []))
        self.activity[drive] = "burning" if r.kind == BURN else "reading"
        log.info(
            "event=lease.granted id=%d kind=%s disc=%d drive=%d client=%s wait_s=%.3f",
            r.id,
            r.kind,
            r.disc,
            drive,
            r.client,
            (r.granted or 0) - r.created,
        )
        self._wake(r.id)

    def _wake(self, rid: int) -> None:
        wake = self._waiters.get(rid)
        if wake is not None:
            wake()

    def _load(self, drive: int, disc: int, copy: int | None) -> None:
        try:
            loaded, notes = self.motions.load_disc(drive, disc, copy)
        except DiscFailed as e:  # no copy could be read: its readers fail, the drive is fine (and empty)
            with self.lock:
                self.scheduler.set_contents(drive, None, False, self.clock())
            self._motion_failed(drive, str(e), disc, drive_fault=False)
        except MotionError as e:  # in no slot: its readers fail, the drive is fine
            self._motion_failed(drive, str(e), disc, drive_fault=False)
        except Exception as e:
            self._motion_failed(drive, f"{self.motions.describe(disc)}: {e}", disc)
        else:
            with self.lock:
                for note in notes:
                    log.warning("event=disc.copy drive=%d %s", drive, note)
                log.info("event=drive.loaded drive=%d disc=%d copy=%s", drive, disc, "-" if loaded is None else loaded)
                self._load_notes[drive] = notes
                self.scheduler.loaded(drive, disc, self.clock(), loaded)
                self.activity.pop(drive, None)
                self._decide()
        self.on_change()

    def _load_blank(self, drive: int, r: Request) -> None:
        try:
            slot = self.motions.load_blank(drive)
        except errors.EmptySlot as e:  # a slot that missed: the drive is fine, another blank is tried
            self._motion_failed(drive, f"no blank for disc {r.disc} in drive {drive}: {e}", None, drive_fault=False)
        except errors.NoBlankMedia as e:  # none left: the burn fails (trying again cannot help), the drive is fine
            self._motion_failed(drive, f"no blank for disc {r.disc}: {e}", None, drive_fault=False, retry=False)
        except Exception as e:
            self._motion_failed(drive, f"no blank for disc {r.disc} in drive {drive}: {e}", None)
        else:
            with self.lock:
                log.info("event=drive.blank_loaded drive=%d slot=%s disc=%d", drive, slot, r.disc)
                self._blank_slot[r.id] = slot
                self.scheduler.blank_loaded(drive, r, self.clock())
                self.activity.pop(drive, None)
                if r.error is not None:  # its client left while the blank was on its way: put it back
                    self.scheduler.drives[drive].blank_for = None
                    self.scheduler.drives[drive].motion = "unloading"
                    self._work.put(lambda: self._put_away(drive, None, False, "", Future()))
                self._decide()
        self.on_change()

    def _motion_failed(
        self, drive: int, message: str, disc: int | None, drive_fault: bool = True, retry: bool = True
    ) -> None:
        log.error("event=%s drive=%d reason=%r", "drive.fault" if drive_fault else "disc.unavailable", drive, message)
        with self.lock:
            self.on_fault(message, drive, disc)
            for r in self.scheduler.load_failed(drive, message, self.clock(), drive_fault, retry):
                self._wake(r.id)
            self.activity.pop(drive, None)
            self._decide()

    def _put_away(self, drive: int, disc: int | None, verified: bool, reason: str, done: Future[int | None]) -> None:
        self.activity[drive] = "unloading"
        try:
            slot = self.motions.put_back(drive, verified, reason, disc)
        except Exception as e:
            self._motion_failed(drive, f"cannot put the medium in drive {drive} away: {e}", disc)
            done.set_exception(e)
        else:
            with self.lock:
                log.info("event=drive.unloaded drive=%d slot=%s verified=%s", drive, slot, verified)
                self.scheduler.unloaded(drive, self.clock())
                self.activity.pop(drive, None)
                self._decide()
            done.set_result(slot)
        self.on_change()

    def _robot_thread(self) -> None:
        while True:
            job = self._work.get()
            if job is None:
                return
            try:
                job()
            except Exception:  # never lose the robot thread
                log.exception("robot thread: unexpected error")

    def _reaper(self) -> None:
        while not self._stop.wait(REAP_INTERVAL_S):
            with self.lock:
                cancelled, released = self.scheduler.reap(pid_alive)
                for r in cancelled:
                    log.info("event=lease.cancelled id=%d disc=%d reason=client_died", r.id, r.disc)
                    self._wake(r.id)
                for r in released:
                    log.info("event=lease.reaped id=%d disc=%d kind=%s reason=client_died", r.id, r.disc, r.kind)
                    self.release(r.id, verified=False, reason="burn interrupted: its client died")
                self._decide()

    # ---- status ----
    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            now = self.clock()
            queue_: dict[tuple[int, str], dict[str, Any]] = {}
            for r in self.scheduler.requests:
                q = queue_.setdefault(
                    (r.disc, r.kind), {"disc": r.disc, "kind": r.kind, "waiting": 0, "oldest_age_s": 0.0, "clients": []}
                )
                q["waiting"] += 1
                q["oldest_age_s"] = round(max(q["oldest_age_s"], now - r.created), 3)
                if r.client not in q["clients"]:
                    q["clients"].append(r.client)
            drives = {}
            for n, d in self.scheduler.drives.items():
                leases = [
                    {"id": x.id, "kind": x.kind, "disc": x.disc, "client": x.client, "pid": x.pid, "since": x.granted}
                    for x in d.leases
                ]
                drives[n] = {
                    "activity": self.activity.get(n) or d.motion,
                    "lease": leases[0] if leases else None,
                    "leases": leases,
                    "fault": d.fault,
                    "disc": d.disc,
                }
            return {"queue": sorted(queue_.values(), key=lambda q: -q["oldest_age_s"]), "drives": drives}


class LeaseFailed(errors.RobotError):
    """A lease that could not be granted (timeout naming the disc, a robot fault)."""
