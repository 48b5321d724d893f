"""`RobotService`: the service's model of the robot, and the `status()` snapshot.

Holds the opened robot (`odarchive.app.robot_config.Robot`), the last inventory read from
the changer (refreshed after every motion, so `status()` never waits for the robot), what
each drive is doing, the faults seen, the scheduler with its leases and queue
(`odarchive.app.service.scheduler`), and the background scrub (`scrubber`). Threads: HTTP handlers call `status()`; robot motions
run on worker threads; `_lock` guards everything here.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from odarchive.app.context import Context
from odarchive.app.robot_config import Robot, disc_from_label
from odarchive.app.service.client import robot_fingerprint
from odarchive.app.service.config import ServiceConfig
from odarchive.app.service.leases import LeaseManager
from odarchive.app.service.motions import Motions
from odarchive.app.service.scheduler import Scheduler
from odarchive.app.service.scrubber import BackgroundScrub
from odarchive.copies import offline_discs_of

MAX_FAULTS = 50  # faults kept for the status snapshot
MANUAL_NO_SCRUB = "the manual driver asks a person for every disc: run `odarchive scrub` instead"


class RobotService:
    """One home's robot, owned by the service process."""

    def __init__(
        self, ctx: Context, robot: Robot, config: ServiceConfig, clock: Callable[[], float] = time.time
    ) -> None:
        self.ctx, self.robot, self.config, self.clock = ctx, robot, config, clock
        self.started = clock()
        self.listen = ""  # the TCP address actually bound, set by the server
        self.fingerprint = robot_fingerprint(ctx)  # the robot configuration it drives
        self.prompts: list[str] = []  # what the manual driver asked a person to do, in order
        self._lock = threading.RLock()
        self._inventory: Any = None
        self._faults: list[dict[str, Any]] = []
        self._drive_since: dict[int, float] = {}
        self.jobs: Callable[[], list[dict[str, Any]]] = lambda: []  # the web side's job list (hook)
        self.job_manager: Any = None  # the web side's JobManager, set by its routes
        self.motions = Motions(ctx, robot)
        scheduler = Scheduler(
            sorted(robot.drives),
            config.read_drives,
            config.burn_max_wait_s,
            robot.config.max_attempts,
            self.motions.describe,
        )
        self.leases = LeaseManager(self.motions, scheduler, self.refresh_inventory, self.record_fault)
        every_s = config.scrub_s
        manual = robot.config.driver == "manual"  # every load asks a person: no scrub behind their back
        self.scrub_off = {"every": "off"} if not manual or every_s is None else {"every": "off", "why": MANUAL_NO_SCRUB}
        self.scrubber = (
            BackgroundScrub(ctx, self.leases, config.scrub, every_s, self._jobs_busy)
            if every_s is not None and not manual
            else None
        )

    def start(self) -> None:
        """Reconcile the drives with the changer (after a restart or a kill -9), then serve."""
        held = self.motions.reconcile()
        for drive, disc in held.items():
            if drive in self.leases.scheduler.drives:
                self.leases.scheduler.set_contents(drive, disc, disc is not None, self.clock())
        self.refresh_inventory()
        self.leases.start()
        if self.scrubber is not None:
            self.scrubber.start()

    def close(self) -> None:
        if self.scrubber is not None:
            self.scrubber.close()  # first: it gives its drive back
        self.leases.close()
        self.robot.close()

    # ---- the robot ----
    def refresh_inventory(self) -> Any:
        inventory = self.robot.changer.inventory()
        with self._lock:
            old = self._inventory
            self._inventory = inventory
            for d in inventory.drives:
                if old is None or _drive_key(old, d.drive) != (d.state, d.loaded_from_slot):
                    self._drive_since[d.drive] = self.clock()
        return inventory

    def record_fault(self, message: str, drive: int | None = None, disc: int | None = None) -> None:
        with self._lock:
            self._faults.append({"at": self.clock(), "message": message, "drive": drive, "disc": disc})
            del self._faults[:-MAX_FAULTS]

    def burn(self, spec: str, reporter: Any) -> dict[str, Any]:
        """Burn discs `spec` (the jobs API's burn, on the job worker thread), with burn leases
        from this service like any client's; the inventory is read again as each disc starts
        and ends, so the status shows the drives and slots."""
        from odarchive.app.robot_burn import run_burn

        try:
            return run_burn(self.ctx, LocalClient(self), spec, _MotionReporter(reporter, self.refresh_inventory))
        finally:
            self.refresh_inventory()

    def _jobs_busy(self) -> int:
        return int(self.job_manager.busy()) if self.job_manager is not None else 0

    def busy(self) -> int:
        """Leases held, requests waiting and jobs running or queued (the service stops only
        when this is 0; the background scrub does not count: it gives way)."""
        jobs = self._jobs_busy()
        with self.leases.lock:
            return self.leases.scheduler.busy() + jobs

    # ---- the snapshot ----
    def status(self) -> dict[str, Any]:
        """The JSON-ready snapshot behind `GET /api/status` (shape in docs/service.md)."""
        with self._lock:
            inventory = self._inventory
            faults = list(self._faults)
            since = dict(self._drive_since)
        by_slot, plan_labels, rejected = _burn_record(self.ctx)
        leases = self.leases.snapshot()
        drives = _drives(self.robot, inventory, by_slot, plan_labels, since)
        for d in drives:
            live = leases["drives"].get(d["drive"], {})
            d["lease"], d["leases"], d["fault"] = live.get("lease"), live.get("leases", []), live.get("fault")
            if live.get("activity"):
                d["state"] = live["activity"].split()[0]
                d["activity"] = live["activity"]
            if d["fault"]:
                d["state"] = "faulty"
        return {
            "now": self.clock(),
            "service": {
                "pid": os.getpid(),
                "started": self.started,
                "home": str(self.ctx.home.root),
                "listen": self.listen,
                "robot": self.fingerprint,
            },
            "changer": _changer(self.robot, inventory, by_slot, plan_labels, rejected, faults),
            "drives": drives,
            "queue": leases["queue"],
            "jobs": self.jobs(),
            "mounts": _mounts(self.ctx),
            "offline_discs": offline_discs_of(self.ctx.home.catalogue),
            "scrub": self.scrubber.snapshot() if self.scrubber is not None else self.scrub_off,
        }


class LocalClient:
    """The part of `ServiceClient` a burn uses, for the service's own burn jobs: the same
    leases, asked for in-process instead of over the socket."""

    def __init__(self, svc: RobotService) -> None:
        self.svc = svc

    def lease(
        self, kind: str, disc: int, client: str, timeout_s: float | None = None, copy: int | None = None
    ) -> dict[str, Any]:
        from odarchive.app.service.client import ServiceError
        from odarchive.app.service.leases import LeaseFailed
        from odarchive.app.service.routes import lease_json

        try:
            info = self.svc.leases.acquire_blocking(kind, disc, f"service job: {client}", timeout_s, copy)
        except LeaseFailed as e:
            raise ServiceError(e.message, e.hint or "", e.exit_code) from None
        return lease_json(info)

    def release(self, lease_id: int, verified: bool = True, reason: str = "") -> int | None:
        return self.svc.leases.release(lease_id, verified, reason).result()

    def status(self) -> dict[str, Any]:
        return self.svc.status()

    def robot(self, action: str, **fields: Any) -> dict[str, Any]:
        from odarchive.app.service.robot_actions import RobotActions

        assert action == "inventory", action
        return self.svc.leases.run_motion(RobotActions(self.svc.leases).inventory).result()

    def spawn(self) -> LocalClient:
        return self

    def close(self) -> None:
        pass


class _MotionReporter:
    """A burn's reporter that also re-reads the inventory when a medium moved."""

    MOVES = frozenset({"burning", "verified", "rejected"})

    def __init__(self, inner: Any, refresh: Callable[[], Any]) -> None:
        self._inner, self._refresh = inner, refresh

    def start(self, phase: str, total_items: int | None = None, total_bytes: int | None = None) -> None:
        self._inner.start(phase, total_items, total_bytes)

    def advance(self, items: int = 0, nbytes: int = 0) -> None:
        self._inner.advance(items, nbytes)

    def event(self, kind: str, **fields: Any) -> None:
        self._inner.event(kind, **fields)
        if kind in self.MOVES:
            self._refresh()

    def finish(self) -> None:
        self._inner.finish()


def _drive_key(inventory: Any, drive: int) -> tuple[str, int | None] | None:
    for d in inventory.drives:
        if d.drive == drive:
            return d.state, d.loaded_from_slot
    return None


def _disc(label: str | None, slot: int | None, by_slot: dict[int, int], plan_labels: set[str]) -> int | None:
    found = disc_from_label(label, plan_labels)
    return found if found is not None else by_slot.get(slot) if slot is not None else None


def _slot_state(s: Any, in_drive: set[int], rejected: set[int], disc: int | None) -> str:
    if s.slot in rejected and s.occupied:
        return "faulty"
    if not s.occupied:
        return "drive" if s.slot in in_drive else "empty"
    if s.state == "full":
        return "recorded" if disc is not None else "full"
    return s.state  # blank, recorded


def _changer(
    robot: Robot,
    inventory: Any,
    by_slot: dict[int, int],
    plan_labels: set[str],
    rejected: set[int],
    faults: list[dict[str, Any]],
) -> dict[str, Any]:
    if inventory is None:
        return {"driver": robot.config.driver, "slots": [], "slot_counts": {}, "mail_slots": [], "faults": faults}
    in_drive = {d.loaded_from_slot for d in inventory.drives if d.loaded_from_slot is not None}
    slots = []
    for s in inventory.slots:
        disc = _disc(s.label, s.slot, by_slot, plan_labels) if s.occupied else None
        slots.append(
            {
                "slot": s.slot,
                "state": _slot_state(s, in_drive, rejected, disc),
                "disc": disc,
                "label": s.label,
                **({"name": s.name} if s.name else {}),
            }
        )
    return {
        "driver": robot.config.driver,
        "slots": slots,
        "slot_counts": dict(Counter(s["state"] for s in slots)),
        "mail_slots": [{"slot": m.slot, "state": m.state, "label": m.label} for m in inventory.mail],
        "faults": faults,
    }


def _drives(
    robot: Robot, inventory: Any, by_slot: dict[int, int], plan_labels: set[str], since: dict[int, float]
) -> list[dict[str, Any]]:
    if inventory is None:
        return []
    out = []
    for d in inventory.drives:
        loaded = d.state == "loaded"
        out.append(
            {
                "drive": d.drive,
                "state": "idle" if d.state == "empty" else "loaded" if loaded else d.state,
                "disc": _disc(d.label, d.loaded_from_slot, by_slot, plan_labels) if loaded else None,
                "label": d.label,
                "medium": d.medium,
                "loaded_from_slot": d.loaded_from_slot,
                "device": robot.drives[d.drive].name if d.drive in robot.drives else None,
                "lease": None,
                "since": since.get(d.drive),
                "fault": None,
            }
        )
    return out


def _burn_record(ctx: Context) -> tuple[dict[int, int], set[str], set[int]]:
    """(slot -> shelved disc, the plan labels, slots of rejected media) from the catalogue."""
    if not ctx.home.catalogue.exists():
        return {}, set(), set()
    from odarchive.burnlog import BurnLog
    from odarchive.catalogue import Catalogue

    cat = Catalogue.open(ctx.home.catalogue, readonly=True)
    try:
        log = BurnLog(cat)
        return log.disc_by_slot(), log.plan_labels(), {slot for slot, _, _ in log.rejected()}
    finally:
        cat.close()


def _mounts(ctx: Context) -> list[dict[str, Any]]:
    """Running mounts (their status records; a record whose process died is not a mount)."""
    from odarchive.jobs import read_jobs

    out = []
    for job in read_jobs(ctx.home.jobs):
        r = job.record
        if r.get("command") != "mount" or not job.alive:
            continue
        cache = r.get("cache") or {}
        out.append(
            {
                "mountpoint": r.get("mountpoint"),
                "pid": r.get("pid"),
                "disc_loads": r.get("disc_loads", 0),
                "disc_failures": r.get("disc_failures", 0),
                "waiting_by_disc": r.get("waiting_by_disc", {}),
                "open_files": r.get("open_files", 0),
                "cache": {
                    k: cache.get(k) for k in ("hits", "misses", "hit_ratio", "bytes_cached", "max_bytes", "free_bytes")
                },
            }
        )
    return out
