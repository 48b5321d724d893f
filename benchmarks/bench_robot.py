"""Benchmark the robot: a simulated burn of 40 discs with 1 and 2 drives, and the cost of talking
to a changer over the serial line compared with the mtx way.

    .venv/bin/python benchmarks/bench_robot.py [--discs 40] [--speed 1000] [--json]

Part 1 (burn): the burn job (robot_drivers.burn_job) drives the simulator over its
pseudo-terminal with the slot dialect, the real xorriso writes each image to a `stdio:`
pseudo-drive and the job reads it back to verify. The simulator's timings are realistic
(load 8 s, unload 6 s, a 25 GB BD-R at 4x = 1390 s) divided by `--speed`; the small test images
are written at the rate that makes one burn last as long as a real BD-R burn at that speed,
so mechanics and burning keep their real proportions. Reported: wall time with 1 and 2
drives, their ratio, and drive utilisation (time a drive spent burning or verifying / wall).

Part 2 (control): round trip of one query (`?V`) over the pty, a full 600-slot inventory over
the pty (7 queries), against one `mtx status` of the same changer through the simulator's
mtx front end (a process per command, as mtx and Bareos/Amanda's mtx-changer scripts work).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from robot_drivers.burn_job import BurnJob, DiscImage
from robot_drivers.drives.optical import OpticalDrive
from robot_drivers.serial_link import SerialLink
from robot_drivers.serial_slot import SlotChanger
from robot_drivers.simulator import control
from robot_drivers.simulator.config import SimConfig

REAL_BURN_S = 25_025_314_816 / 18_000_000  # a full BD-R at 4x


class Recorder:
    def __init__(self, images: dict[int, DiscImage]) -> None:
        self.images = images
        self.busy_s: dict[int, float] = {}
        self.lock = threading.Lock()

    def image(self, disc: int) -> DiscImage:
        return self.images[disc]

    def verified(self, disc: int, label: str, drive: int, slot: int, burn_s: float, sha256: bytes) -> None:
        with self.lock:
            self.busy_s[drive] = self.busy_s.get(drive, 0.0) + burn_s

    def shelved(self, disc: int, slot: int | None) -> None:
        pass

    def rejected(self, disc: int | None, slot: int, reason: str) -> None:
        raise AssertionError(reason)

    def is_done(self, label: str | None) -> bool:
        return False

    def recovered(self, label: str | None, slot: int, blank: bool) -> None:
        pass


class Quiet:
    def start(self, *a: Any, **k: Any) -> None: ...
    def advance(self, *a: Any, **k: Any) -> None: ...
    def event(self, *a: Any, **k: Any) -> None: ...
    def finish(self) -> None: ...


def make_images(root: Path, n: int) -> dict[int, DiscImage]:
    images = {}
    for d in range(n):
        src = root / f"src{d}"
        src.mkdir()
        (src / "data").write_bytes(hashlib.sha256(str(d).encode()).digest() * 6000)
        path = root / f"BENCH_{d:04d}.iso"
        subprocess.run(
            ["xorriso", "-as", "mkisofs", "-V", f"BENCH_{d:04d}", "-o", str(path), str(src)],
            check=True,
            capture_output=True,
        )
        data = path.read_bytes()
        images[d] = DiscImage(d, path, f"BENCH_{d:04d}", len(data), hashlib.sha256(data).digest())
    return images


def burn(root: Path, images: dict[int, DiscImage], drives: int, speed: float) -> dict[str, float]:
    size = max(i.size for i in images.values())
    rate = size / (REAL_BURN_S / speed) / speed  # the sidecar multiplies by speed again
    state = root / f"robot-{drives}"
    info = control.start(
        state,
        SimConfig(
            slots=100, drives=drives, blanks=len(images) + 10, speed=speed, write_bytes_per_s=rate, idle_exit_s=120.0
        ),
    )
    changer = SlotChanger(SerialLink(info["tty"]), motion_timeout_s=60.0)
    try:
        recorder = Recorder(images)
        job = BurnJob(
            changer,
            {n: OpticalDrive.for_target(f"stdio:{p}") for n, p in enumerate(info["drives"])},
            recorder,
            Quiet(),
            progress_interval_s=60.0,
        )
        t0 = time.monotonic()
        done = job.run(sorted(images))
        wall = time.monotonic() - t0
        assert len(done) == len(images)
        util = statistics.mean(recorder.busy_s.get(d, 0.0) / wall for d in range(drives))
        return {
            "drives": drives,
            "wall_s": round(wall, 2),
            "utilisation": round(util, 3),
            "per_disc_s": round(wall / len(images), 3),
        }
    finally:
        changer.close()
        control.stop(state)


def control_latency(root: Path) -> dict[str, float]:
    state = root / "robot-latency"
    info = control.start(state, SimConfig(speed=1000.0, idle_exit_s=120.0))
    changer = SlotChanger(SerialLink(info["tty"]))
    try:
        changer.version()
        n = 500
        t0 = time.perf_counter()
        for _ in range(n):
            changer.version()
        query_ms = (time.perf_counter() - t0) / n * 1000
        t0 = time.perf_counter()
        for _ in range(20):
            changer.inventory()
        inventory_ms = (time.perf_counter() - t0) / 20 * 1000
        t0 = time.perf_counter()
        for _ in range(10):
            subprocess.run(
                [sys.executable, "-m", "robot_drivers.simulator.mtx_front", "-f", str(state), "status"],
                check=True,
                capture_output=True,
            )
        mtx_ms = (time.perf_counter() - t0) / 10 * 1000
    finally:
        changer.close()
        control.stop(state)
    return {
        "query_ms": round(query_ms, 3),
        "inventory_600_ms": round(inventory_ms, 2),
        "mtx_status_600_ms": round(mtx_ms, 1),
        "mtx_over_pty_inventory": round(mtx_ms / inventory_ms, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--discs", type=int, default=40)
    parser.add_argument("--speed", type=float, default=1000.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-robot-") as tmp:
        root = Path(tmp)
        images = make_images(root, args.discs)
        one = burn(root, images, 1, args.speed)
        two = burn(root, images, 2, args.speed)
        lat = control_latency(root)
    result = {
        "discs": args.discs,
        "speed": args.speed,
        "image_bytes": max(i.size for i in images.values()),
        "one_drive": one,
        "two_drives": two,
        "speedup_2_vs_1": round(one["wall_s"] / two["wall_s"], 2),
        "control": lat,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"burn {args.discs} discs, speed x{args.speed:g} (one real BD-R burn = {REAL_BURN_S / args.speed:.2f} s)")
    for r in (one, two):
        print(
            f"  {r['drives']} drive(s): {r['wall_s']:7.2f} s wall, {r['per_disc_s']:.3f} s/disc, utilisation {r['utilisation']:.1%}"
        )
    print(f"  2 drives vs 1: {result['speedup_2_vs_1']:.2f}x faster")
    print(
        f"control: query round trip {lat['query_ms']:.3f} ms over the pty; 600-slot inventory {lat['inventory_600_ms']:.1f} ms"
        f" vs `mtx status` {lat['mtx_status_600_ms']:.0f} ms ({lat['mtx_over_pty_inventory']:.0f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
