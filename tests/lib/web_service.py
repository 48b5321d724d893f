"""A stand-in for the archive service's robot around the real app, for tests of the page and
the jobs API: the service's own app (`build_app`: its routes, token guard, the web side), a
real home, a status snapshot from a fixture (changer, drives, queue, mounts) plus the live
jobs, and a burn that reports as the robot's burn job does."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from odarchive.app.context import Context
from odarchive.app.service.http import build_app
from odarchive.app.service.token import ensure_token
from odarchive.config import load_settings
from odarchive.home import Home
from odarchive.progress import Reporter

HOSTILE = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


def fixture_status(slots: int = 600, label: str = HOSTILE) -> dict[str, Any]:
    """A status snapshot with every kind of slot, two drives, a queue and a mount."""
    states = ["recorded", "blank", "empty", "drive", "faulty"]
    table = []
    for n in range(1, slots + 1):
        state = states[0] if n <= slots // 2 else states[1 + n % 4]
        table.append(
            {
                "slot": n,
                "state": state,
                "disc": n - 1 if state == "recorded" else None,
                "label": f"{label}_{n:04d}" if state == "recorded" else None,
            }
        )
    now = time.time()
    return {
        "now": now,
        "service": {"pid": 4242, "started": now - 60, "home": f"/archive/{label}", "listen": "127.0.0.1:0"},
        "changer": {"driver": "simulator", "slots": table, "mail_slots": [], "faults": [f"jam near {label}"]},
        "drives": [
            {
                "drive": 0,
                "state": "reading",
                "disc": 7,
                "label": f"{label}_0007",
                "lease": {"id": "L1", "kind": "read", "client": f"mount {label}", "disc": 7},
                "since": now - 5,
                "fault": None,
            },
            {"drive": 1, "state": "idle", "disc": None, "label": None, "lease": None, "since": now - 30, "fault": None},
        ],
        "queue": [{"disc": 12, "kind": "read", "waiting": 3, "oldest_age_s": 4.5, "clients": [f"mount {label}"]}],
        "mounts": [
            {
                "mountpoint": f"/mnt/{label}",
                "pid": 99,
                "disc_loads": 4,
                "disc_failures": 1,
                "cache": {"hits": 90, "misses": 10, "hit_ratio": 0.9, "bytes_cached": 5_000_000, "max_bytes": 10**9},
            }
        ],
        "offline_discs": [
            {
                "disc": 17,
                "copy": 1,
                "set": "B",
                "location": f"shelf {label}",
                "text": f"insert disc 17 (set B): shelf {label}",
            }
        ],
        "scrub": {
            "every": "30d",
            "current": {"disc": 3, "copy": 1, "set": "B", "drive": 1, "since": now - 20, "bytes": 25_000_000_000},
            "last": {"disc": 2, "copy": 0, "set": "A", "result": "ok", "at": now - 300},
            "scrubbed": 4,
            "gave_way": 1,
            "skipped": [{"disc": 9, "copy": 0, "reason": f"no slot {label}", "until": now + 3600}],
            "attention": [{"disc": 5, "copy": 1, "set": "B", "result": "corrected", "at_ns": 1, "detail": None}],
        },
    }


class SlowBurn:
    """A burn that reports like `robot_drivers.burn_job` (burning, drive progress, verified)
    and waits for `release` between discs, so a test sees a job in the middle."""

    def __init__(self, step_s: float = 0.0) -> None:
        self.specs: list[str] = []
        self.release = threading.Event()
        self.step_s = step_s
        self.fail: Exception | None = None

    def __call__(self, spec: str, reporter: Reporter) -> dict[str, Any]:
        self.specs.append(spec)
        discs = [int(d) for d in spec.split(",")] if spec != "all" else [0]
        reporter.start("burn", total_items=len(discs), total_bytes=1000 * len(discs))
        burned = []
        for d in discs:
            reporter.event("burning", disc=d, drive=d % 2, slot=d + 1, label=f"DISC_{d:04d}", attempt=1)
            reporter.advance(nbytes=400)
            reporter.event("drive", drive=d % 2, disc=d, phase="burn", done=400, total=1000)
            if not self.release.wait(30):
                raise TimeoutError("test never released the burn")
            if self.fail:
                raise self.fail
            reporter.advance(items=1, nbytes=600)
            reporter.event("verified", disc=d, drive=d % 2, slot=d + 1, seconds=0.1)
            burned.append({"disc": d, "drive": d % 2})
        reporter.finish()
        return {"requested": discs, "skipped": [], "burned": burned, "rejected_media": []}


class FakeService:
    """What the app needs of a `RobotService`: `ctx`, `status()`, `busy()`, `burn()`; the web
    side gives it `job_manager` and `jobs`."""

    def __init__(self, home: Path, burn: Any, status: dict[str, Any] | None = None) -> None:
        h = Home(home)
        self.ctx = Context(h, load_settings(h.config_file), as_json=False)
        self.burn = burn
        self._status = status if status is not None else fixture_status()
        self.stopped = False
        self.app = build_app(self, ensure_token(h), self.stop)

    def stop(self) -> None:
        self.stopped = True

    def busy(self) -> int:
        return int(self.job_manager.busy())

    def status(self) -> dict[str, Any]:
        return {**self._status, "now": time.time(), "jobs": self.jobs()}

    def close(self) -> None:
        self.burn.release.set()
        self.job_manager.close(10)


@contextmanager
def served(app: Starlette) -> Iterator[str]:
    """`app` on a real uvicorn at 127.0.0.1 on a free port; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
