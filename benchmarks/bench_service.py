#!/usr/bin/env python3
"""Service benchmark: reads through the mount while burns run, against an idle robot.

On the simulator (2 drives, real timings divided by --speed), in ONE run:
  1. idle: READS files spread over 6+ discs (none in a drive) read through the mount by 8
     threads; per-read wait (max, mean).
  2. busy: the same reads (cold cache) while `robot burn` writes BURNS new discs; per-read
     wait, and the burn's wall time.
  3. burns alone: another BURNS discs with no reads; burn throughput with reads / alone.
  4. service cost per lease: lease + release round trips for a disc already in a drive.
Aims (issue 8): longest wait per read <= one disc swap + one read over idle; burn throughput
with reads >= 0.5x alone; cost per lease < 5 ms.

Usage: .venv/bin/python benchmarks/bench_service.py [--speed 50] [--burns 10] [--work DIR]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from odarchive.app.service.client import ServiceClient  # noqa: E402
from odarchive.cli import main  # noqa: E402
from odarchive.home import Home  # noqa: E402
from tests.lib.trees import disc_ids  # noqa: E402


def files(root: Path, prefix: str, count: int, seed: int) -> None:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (root / f"{prefix}{n:03d}.bin").write_bytes(rng.randbytes(rng.randrange(200_000, 400_000)))


def discs(home: Path) -> list[int]:
    if not (home / "catalogue.sqlite").exists():
        return []
    return disc_ids(home)


def plan_more(home: Path, src: Path, prefix: str, count: int, seed: int) -> list[int]:
    before = set(discs(home))
    files(src, prefix, count, seed)
    assert main(["--home", str(home), "create_db", str(src)]) == 0
    assert main(["--home", str(home), "plan_iso", "1200k"]) == 0
    return [d for d in discs(home) if d not in before]


def read_all(mnt: Path, names: list[str]) -> list[float]:
    def one(name: str) -> float:
        t0 = time.monotonic()
        (mnt / "src" / name).read_bytes()
        return time.monotonic() - t0

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, names))


def wait_for_burning(home: Path, timeout_s: float = 300.0) -> None:
    """Until a drive holds a burn lease (the images are built before the first one)."""
    deadline = time.monotonic() + timeout_s
    with ServiceClient(Home.resolve(home)) as c:
        while time.monotonic() < deadline:
            if any((d.get("lease") or {}).get("kind") == "burn" for d in c.status()["drives"]):
                return
            time.sleep(0.1)
    raise SystemExit("the burn never started")


def burn(home: Path, ids: list[int]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "odarchive", "--home", str(home), "robot", "burn", "--segments", f"{ids[0]}-{ids[-1]}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def run(args: argparse.Namespace) -> None:
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-service-"))
    src, home = work / "src", work / "home"
    home.mkdir(parents=True)
    (home / "odarchive.toml").write_text(
        f'[robot.simulator]\nspeed = {args.speed}\nidle_exit_s = 600\n[service]\nlisten = ""\n'
    )
    h = ["--home", str(home)]
    try:
        old_ids = plan_more(home, src, "old", 30, 1)
        assert main([*h, "robot", "burn", "--segments", "all"]) == 0
        names = sorted(p.name for p in src.iterdir())
        busy_ids = plan_more(home, src, "busy", args.burns * 3, 2)
        alone_ids = plan_more(home, src, "alone", args.burns * 3, 3)
        results = {}
        for case in ("idle", "busy"):
            mnt, cache = work / f"mnt-{case}", work / f"cache-{case}"
            mnt.mkdir()
            assert main([*h, "mount", str(mnt), "--cache-dir", str(cache), "--disc-timeout", "30m"]) == 0
            try:
                proc = burn(home, busy_ids) if case == "busy" else None
                t0 = time.monotonic()
                if proc is not None:
                    wait_for_burning(home)
                waits = read_all(mnt, names)
                results[case] = waits
                if proc is not None:
                    proc.wait()
                    results["burn_with_reads_s"] = time.monotonic() - t0
            finally:
                main([*h, "umount", str(mnt)])
        t0 = time.monotonic()
        assert burn(home, alone_ids).wait() == 0
        results["burn_alone_s"] = time.monotonic() - t0
        with ServiceClient(Home.resolve(home)) as c:
            first = c.lease("read", discs(home)[0], "bench", timeout_s=600)
            c.release(first["id"])
            t0 = time.monotonic()
            for _ in range(args.leases):
                c.release(c.lease("read", first["disc"], "bench", timeout_s=600)["id"])
            results["lease_ms"] = (time.monotonic() - t0) / args.leases * 1000
        idle, busy = results["idle"], results["busy"]
        print(f"reads: {len(names)} files over {len(old_ids)} discs, 8 threads, speed {args.speed}")
        print(f"  idle robot:       max wait {max(idle):.2f} s, mean {statistics.mean(idle):.2f} s")
        print(
            f"  {args.burns} burns running: max wait {max(busy):.2f} s, mean {statistics.mean(busy):.2f} s"
            f"  (max ratio {max(busy) / max(idle):.2f}x)"
        )
        n_busy, n_alone = len(busy_ids), len(alone_ids)
        with_reads = n_busy / results["burn_with_reads_s"]
        alone = n_alone / results["burn_alone_s"]
        print(
            f"burns: {n_busy} discs with reads {with_reads * 60:.1f}/min, {n_alone} alone {alone * 60:.1f}/min"
            f"  (ratio {with_reads / alone:.2f}x)"
        )
        print(f"service cost per lease (lease + release, disc in a drive): {results['lease_ms']:.2f} ms")
    finally:
        main([*h, "serve", "--stop", "--force"])
        main([*h, "robot", "simulate", "--stop"])
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--speed", type=float, default=50.0, help="simulator speed factor (real timings / this)")
    p.add_argument("--burns", type=int, default=10, help="discs burned while reading, and again alone")
    p.add_argument("--leases", type=int, default=200, help="lease round trips timed")
    p.add_argument("--work", help="work directory (default: a temporary one, removed)")
    run(p.parse_args())
