"""Jobs the service runs for its clients (`POST /api/jobs`): a queue, one worker, progress.

A job is a burn of planned discs, or a rescan of a source followed by planning and burning
what changed (`odarchive.app.job_steps` says how each is done). Jobs run one at a time, in
the order they were asked for, on one worker thread: each takes the home's scan or image
locks anyway, and a burn uses every drive it gets. While a job runs, its `JobProgress` (the
`Reporter` handed to the library) keeps the job's phase, percent, ETA and each disc's drive
and progress; `JobManager.snapshot()` is the `jobs` list of the service's status.

Threads: `submit` and `snapshot` are called by the web server's threads, the steps by the
worker; one lock per job guards its fields, one lock guards the queue.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from odarchive.app.events import log_event
from odarchive.errors import OdarchiveError

if TYPE_CHECKING:
    from odarchive.app.job_steps import StepReporter

log = logging.getLogger("odarchive.service")

KEEP_FINISHED = 20  # finished and failed jobs kept in the status


class JobRequestError(OdarchiveError):
    """A job request that cannot be run as asked (HTTP 400)."""


class JobSteps(Protocol):
    """What the jobs do; checked when asked for (`check_*`, raising JobRequestError) and run
    on the worker thread (`run_*`, returning a JSON-ready result)."""

    def check_burn(self, params: dict[str, Any]) -> dict[str, Any]: ...
    def run_burn(self, params: dict[str, Any], reporter: StepReporter) -> dict[str, Any]: ...
    def check_rescan(self, params: dict[str, Any]) -> dict[str, Any]: ...
    def run_rescan(self, params: dict[str, Any], reporter: StepReporter) -> dict[str, Any]: ...
    def choices(self) -> dict[str, Any]:
        """What jobs can act on: the sources and the discs not yet burned."""


KINDS = ("burn", "rescan")


@dataclass
class Job:
    id: int
    kind: str
    params: dict[str, Any]
    client: str
    state: str = "queued"  # queued -> running -> finished | failed
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    progress: JobProgress = field(init=False)

    def __post_init__(self) -> None:
        self.progress = JobProgress(self)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "params": self.params,
            "client": self.client,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "result": self.result,
            "error": self.error,
            **self.progress.as_dict(),
        }


class JobProgress:
    """The `Reporter` a job's library calls report to: phase, counts, percent, ETA, and the
    discs being burned (from the burn job's `burning`, `drive`, `verified`, `rejected`)."""

    def __init__(self, job: Job) -> None:
        self._job = job
        self._lock = threading.Lock()
        self.step = ""
        self.phase = ""
        self._items = self._bytes = 0
        self._totals: tuple[int | None, int | None] = (None, None)
        self._phase_started = time.monotonic()
        self._discs: dict[int, dict[str, Any]] = {}
        self._last_disc: int | None = None

    def begin_step(self, step: str) -> None:
        """A step of the job (scan, plan, burn) begins."""
        with self._lock:
            self.step, self.phase = step, step
            self._items = self._bytes = 0
            self._totals = (None, None)
            self._phase_started = time.monotonic()
        log_event("job.step", id=self._job.id, kind=self._job.kind, step=step)

    def start(self, phase: str, total_items: int | None = None, total_bytes: int | None = None) -> None:
        with self._lock:
            self.phase = phase
            self._items = self._bytes = 0
            self._totals = (total_items, total_bytes)
            self._phase_started = time.monotonic()

    def advance(self, items: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            self._items += items
            self._bytes += nbytes

    def event(self, kind: str, **fields: Any) -> None:
        disc = fields.get("disc")
        if kind not in ("burning", "drive", "verified", "rejected") or disc is None:
            return
        with self._lock:
            d = self._discs.setdefault(disc, {"disc": disc, "drive": None, "phase": "burn", "percent": 0.0})
            d["drive"] = fields.get("drive", d["drive"])
            self._last_disc = disc
            if kind == "burning":
                d.update(phase="burn", percent=0.0, attempt=fields.get("attempt"), label=fields.get("label"))
            elif kind == "drive" and fields.get("total"):
                d.update(
                    phase=fields.get("phase", d["phase"]),
                    percent=round(100.0 * fields.get("done", 0) / fields["total"], 1),
                )
            elif kind == "verified":
                d.update(phase="verified", percent=100.0, slot=fields.get("slot"))
            elif kind == "rejected":
                d.update(phase="rejected", reason=fields.get("reason"))
        if kind in ("burning", "verified", "rejected"):
            log_event(
                f"job.disc.{kind}",
                id=self._job.id,
                disc=disc,
                drive=fields.get("drive"),
                slot=fields.get("slot"),
                reason=fields.get("reason"),
            )

    def finish(self) -> None:
        pass

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            total_items, total_bytes = self._totals
            if total_bytes:
                fraction: float | None = self._bytes / total_bytes
            elif total_items:
                fraction = self._items / total_items
            else:
                fraction = None
            elapsed = time.monotonic() - self._phase_started
            eta = elapsed * (1 - fraction) / fraction if fraction and self._job.state == "running" else None
            last = self._discs.get(self._last_disc) if self._last_disc is not None else None
            return {
                "step": self.step,
                "phase": self.phase,
                "items": self._items,
                "bytes": self._bytes,
                "total_items": total_items,
                "total_bytes": total_bytes,
                "percent": None if fraction is None else round(100.0 * min(fraction, 1.0), 1),
                "eta_s": None if eta is None else round(eta, 1),
                "disc": last["disc"] if last else None,
                "drive": last["drive"] if last else None,
                "discs": [dict(d) for d in self._discs.values()],
            }


class JobManager:
    """The service's jobs: `submit` checks and queues, one worker thread runs them."""

    def __init__(self, steps: JobSteps, keep_finished: int = KEEP_FINISHED) -> None:
        self._steps = steps
        self._lock = threading.Condition()
        self._ids = itertools.count(1)
        self._queue: deque[Job] = deque()
        self._running: Job | None = None
        self._done: deque[Job] = deque(maxlen=keep_finished)
        self._closing = False
        self._worker = threading.Thread(target=self._work, name="odarchive-jobs", daemon=True)
        self._worker.start()

    def submit(self, kind: str, params: dict[str, Any], client: str) -> Job:
        """Check the request and queue the job; JobRequestError if it cannot run as asked."""
        if kind not in KINDS:
            raise JobRequestError(f"unknown job kind {kind!r}", hint=f"kinds: {', '.join(KINDS)}")
        checked = self._check(kind)(params)
        with self._lock:
            if self._closing:
                raise JobRequestError("the service is stopping", hint="start it again, then ask again")
            job = Job(next(self._ids), kind, checked, client)
            self._queue.append(job)
            self._lock.notify_all()
        log_event("job.queued", id=job.id, kind=kind, client=client, **_flat(checked))
        return job

    def get(self, job_id: int) -> dict[str, Any] | None:
        return next((j.as_dict() for j in self._all() if j.id == job_id), None)

    def snapshot(self) -> list[dict[str, Any]]:
        """Running, then queued (oldest first), then finished and failed (newest first)."""
        return [j.as_dict() for j in self._all()]

    def choices(self) -> dict[str, Any]:
        return self._steps.choices()

    def busy(self) -> bool:
        with self._lock:
            return self._running is not None or bool(self._queue)

    def close(self, timeout_s: float | None = None) -> bool:
        """Take no more jobs, let the queue drain; True once the worker has stopped."""
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        self._worker.join(timeout_s)
        return not self._worker.is_alive()

    def _all(self) -> list[Job]:
        with self._lock:
            running = [self._running] if self._running else []
            return [*running, *self._queue, *reversed(self._done)]

    def _check(self, kind: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        return self._steps.check_burn if kind == "burn" else self._steps.check_rescan

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closing:
                    self._lock.wait()
                if not self._queue:
                    return
                job = self._running = self._queue.popleft()
                job.state, job.started = "running", time.time()
            log_event("job.started", id=job.id, kind=job.kind)
            self._run(job)
            with self._lock:
                job.finished = time.time()
                self._running = None
                self._done.append(job)
                self._lock.notify_all()

    def _run(self, job: Job) -> None:
        run = self._steps.run_burn if job.kind == "burn" else self._steps.run_rescan
        try:
            job.result = run(job.params, job.progress)
            job.state = "finished"
            log_event("job.finished", id=job.id, kind=job.kind, seconds=time.time() - (job.started or 0))
        except Exception as e:  # any failure ends this job only; the service goes on
            job.error = str(e) or type(e).__name__
            job.state = "failed"
            log_event("job.failed", id=job.id, kind=job.kind, error=job.error, type=type(e).__name__)
            if not isinstance(getattr(e, "exit_code", None), int):  # not one of our errors: a bug
                log.exception("job %d failed unexpectedly", job.id)


def _flat(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if isinstance(v, (str, int, float))}
