"""Status records of running jobs, for `odarchive status` (the seed's "service with feedback").

A running job (a scan, an image build, a burn, a mount) keeps `<home>/jobs/<name>.json`
current: what it is, its phase, counts, rate, ETA and when it last updated. The record is
written atomically (temporary file + rename) at most once a second and removed when the job
ends cleanly. A record whose process is gone is reported as a job that died.

`JobReporter` wraps any `Reporter`: the command line's bar or JSON lines are drawn as before
and the record is kept current on the side.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from odarchive.errors import OdarchiveError
from odarchive.progress import Reporter

WRITE_INTERVAL_S = 2.0


class JobBusy(OdarchiveError):
    hint = "wait for it to finish, or check `odarchive status`"


@contextmanager
def exclusive(jobs_dir: Path, name: str, what: str) -> Iterator[None]:
    """Hold `<jobs>/<name>.lock` for the duration; refuse if another process holds it."""
    jobs_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(jobs_dir / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JobBusy(f"{what} is already running on this home") from None
        yield
    finally:
        os.close(fd)


JobRecord = dict[str, Any]
"""A job's status record as read back from its JSON file (phase, counts, and what the job adds)."""


@dataclass
class JobInfo:
    name: str
    record: JobRecord
    alive: bool


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_jobs(jobs_dir: Path) -> list[JobInfo]:
    out: list[JobInfo] = []
    if not jobs_dir.is_dir():
        return out
    for path in sorted(jobs_dir.glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # being replaced right now, or unreadable: skip this time
        out.append(JobInfo(path.stem, record, pid_alive(int(record.get("pid", 0)))))
    return out


class JobReporter:
    """A Reporter that forwards to `inner` and keeps the job's status record current."""

    def __init__(self, jobs_dir: Path, name: str, command: str, inner: Reporter, **details: Any) -> None:
        jobs_dir.mkdir(parents=True, exist_ok=True)
        self._path = jobs_dir / f"{name}.json"
        self._inner = inner
        self._lock = threading.Lock()
        self._last_write = 0.0
        now = time.time()
        self._record: dict[str, Any] = {
            "job": name,
            "command": command,
            "pid": os.getpid(),
            "started": now,
            "updated": now,
            "phase": "starting",
            "items": 0,
            "bytes": 0,
            "total_items": None,
            "total_bytes": None,
            "phase_started": now,
            **details,
        }
        self._write(force=True)

    def update(self, **fields: Any) -> None:
        with self._lock:
            self._record.update(fields)
            self._write(force=True)

    def start(self, phase: str, total_items: int | None = None, total_bytes: int | None = None) -> None:
        with self._lock:
            self._record.update(
                phase=phase,
                items=0,
                bytes=0,
                total_items=total_items,
                total_bytes=total_bytes,
                phase_started=time.time(),
            )
            self._write(force=True)
        self._inner.start(phase, total_items, total_bytes)

    def advance(self, items: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            self._record["items"] += items
            self._record["bytes"] += nbytes
            self._write()
        self._inner.advance(items, nbytes)

    def event(self, kind: str, **fields: Any) -> None:
        with self._lock:
            self._record[f"{kind}_count"] = self._record.get(f"{kind}_count", 0) + 1
            self._write()
        self._inner.event(kind, **fields)

    def finish(self) -> None:
        with self._lock:
            self._write(force=True)  # the record shows a phase's final counts
        self._inner.finish()

    def close(self) -> None:
        """The job ended cleanly: remove its record."""
        try:
            self._path.unlink()
        except FileNotFoundError:
            pass

    def _write(self, force: bool = False) -> None:
        now = time.time()
        if not force and now - self._last_write < WRITE_INTERVAL_S:
            return
        self._last_write = now
        r = self._record
        r["updated"] = now
        elapsed = max(now - r["phase_started"], 1e-6)
        r["items_per_s"] = round(r["items"] / elapsed, 1)
        r["bytes_per_s"] = round(r["bytes"] / elapsed)
        r["eta_s"] = _eta(r, elapsed)
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps(r))
        os.replace(tmp, self._path)


def _eta(r: dict[str, Any], elapsed: float) -> float | None:
    if r.get("total_bytes") and r["bytes"]:
        return round(elapsed * (r["total_bytes"] - r["bytes"]) / r["bytes"], 1)
    if r.get("total_items") and r["items"]:
        return round(elapsed * (r["total_items"] - r["items"]) / r["items"], 1)
    return None
