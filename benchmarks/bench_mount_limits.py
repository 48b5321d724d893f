#!/usr/bin/env python3
"""Mount benchmark, part 2: the limits `odarchive mount` alone is held to (issue 9), one run.

  1. `ls -l` of a directory of 100,000 entries (a synthetic catalogue), the first one after
     mounting and again, against `ls -l` of a native directory of 100,000 empty files
  2. a 10-million-file catalogue: listing one 1,000-entry directory (`os.listdir`, `ls -l`),
     the first time after mounting
  3. while 16 reads wait for a disc that never comes: latency of `lstat` (2,000 files, first
     pass after mounting, so each is a FUSE lookup: p50/p99/max) and cached small reads per
     second, against the same mount with nothing waiting

Part 3 uses the tree, catalogue and disc images of `bench_mount.py` (run it first, same
--work). Usage: flock /work/bench.lock .venv/bin/python benchmarks/bench_mount_limits.py [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mount import ODARCHIVE, REPO, mount_odarchive, mount_pid, rss_bytes, run, timed


def _umount(home: Path, mp: Path) -> None:
    subprocess.run([*ODARCHIVE, "--home", str(home), "umount", "--lazy", str(mp)], check=False, capture_output=True)


def _synthetic(work: Path, files: int, per_dir: int) -> Path:
    from tests.lib.synthetic_catalogue import synthetic_catalogue

    home = work / f"synthetic-{files}-{per_dir}" if per_dir != 1000 else work / f"synthetic-{files}"
    if not (home / "done").exists():
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        print(f"# generating a synthetic catalogue of {files:,} files, {per_dir:,} per directory", flush=True)
        synthetic_catalogue(home / "catalogue.sqlite", files, per_dir=per_dir)
        (home / "done").write_text("done\n")
    return home


def _ls_l(path: Path) -> float:
    return timed(lambda: run(["ls", "-l", str(path)]))


def big_directory(work: Path) -> dict:
    home = _synthetic(work, 100_000, 100_000)
    native = work / "native-100k"
    if not native.exists():
        native.mkdir()
        for i in range(100_000):
            (native / f"f{i:07d}").touch()
    native_s = min(_ls_l(native) for _ in range(3))
    mp, empty = work / "mnt-100k", work / "no-images"
    empty.mkdir(exist_ok=True)
    mount_odarchive(home, mp, "--images", str(empty), "--cache-dir", str(work / "cache-100k"))
    try:
        d = mp / "big" / "d00000"
        first, again = _ls_l(d), _ls_l(d)
        plain = timed(lambda: os.listdir(d))
    finally:
        _umount(home, mp)
    return {"ls_l_first_s": first, "ls_l_again_s": again, "listdir_s": plain, "native_ls_l_s": native_s}


def huge_catalogue(work: Path, files: int) -> dict:
    home = _synthetic(work, files, 1000)
    mp, empty = work / f"mnt-{files}", work / "no-images"
    empty.mkdir(exist_ok=True)
    rows = []
    for i in range(3):
        mount_s = mount_odarchive(home, mp, "--images", str(empty), "--cache-dir", str(work / f"cache-{files}"))
        try:
            pid = mount_pid(home, mp)
            ready = rss_bytes(pid)
            a, b = (mp / "big" / f"d{(files // 1000) * k // 3 + i:05d}" for k in (1, 2))
            rows.append(
                {
                    "mount_s": mount_s,
                    "rss_ready_bytes": ready,
                    "listdir_s": timed(lambda: os.listdir(a)),
                    "ls_l_s": _ls_l(b),
                    "rss_after_bytes": rss_bytes(pid),
                }
            )
        finally:
            _umount(home, mp)
    return {
        "files": files,
        "listdir_first_s": statistics.median(r["listdir_s"] for r in rows),
        "ls_l_first_s": statistics.median(r["ls_l_s"] for r in rows),
        "runs": rows,
    }


MEASURE = """
import json, os, sys, time
mp, stats, cached = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
lat = []
for r in stats:
    t = time.perf_counter()
    os.lstat(os.path.join(mp, r))
    lat.append(time.perf_counter() - t)
lat.sort()
t = time.perf_counter()
for r in cached:
    with open(os.path.join(mp, r), "rb") as f:
        f.read()
rate = len(cached) / (time.perf_counter() - t)
print(json.dumps({"p50_ms": lat[len(lat) // 2] * 1e3, "p99_ms": lat[int(len(lat) * 0.99)] * 1e3,
                  "max_ms": lat[-1] * 1e3, "cached_reads_per_s": rate}))
"""


def waiting_reads(work: Path, waiting: int = 16) -> dict:
    """The mount served in this process on a fake robot (real fetcher, cache, kernel mount)
    whose picker hangs, so `waiting` reads wait for discs; the stats and reads measured run in
    another process. Against the same with a robot that works."""
    from bench_mount import unmount, wait_mounted

    from fuse_mount.cache import Cache, CacheConfig
    from fuse_mount.discs import RobotSource
    from fuse_mount.fuse_ops import serve
    from fuse_mount.service import ArchiveService, MountConfig
    from odarchive.app.mount_adapter import CatalogueAdapter
    from tests.lib.mount_fakes import FakeRobot

    images = {d + 1: work / "images" / f"disc{d}.iso" for d in range(10)}
    labels = {slot: f"ODARCHIVE_{slot - 1:04d}" for slot in images}
    small = sorted(str(p.relative_to(work / "tree")) for p in (work / "tree" / "data").rglob("*.txt"))
    rnd = random.Random(5)
    cached = rnd.sample(small, 300)
    others = sorted(set(small) - set(cached))
    stats = rnd.sample(others, 2000)
    stuck = rnd.sample(sorted(set(others) - set(stats)), waiting)
    cache_dir = work / "cache-waiting"
    shutil.rmtree(cache_dir, ignore_errors=True)

    def service(robot: FakeRobot) -> ArchiveService:
        cache = Cache.open(CacheConfig(cache_dir, chunk_bytes=16 << 20, min_free_bytes=0, max_bytes=0))
        return ArchiveService(
            CatalogueAdapter(work / "home" / "catalogue.sqlite"),
            RobotSource(robot, robot.drives),
            cache,
            MountConfig(disc_timeout_s=120),
        )

    s = service(FakeRobot(images, labels, drives=2, load_s=0))
    for r in cached:  # in the cache before the measured mounts
        fh = s.vfs.open(b"/" + r.encode())
        s.vfs.read(fh, 1 << 20, 0)
        s.vfs.release(fh)
    s.close()
    out = {}
    mp = work / "mnt-waiting"
    mp.mkdir(exist_ok=True)
    for label, jam in (("idle", False), (f"{waiting}_waiting", True)):
        robot = FakeRobot(images, labels, drives=2, load_s=0)
        robot.jammed = robot.jam_hangs = jam
        s = service(robot)
        server = threading.Thread(target=serve, args=(s.vfs, str(mp)), daemon=True)
        server.start()
        wait_mounted(mp)
        readers = [
            subprocess.Popen(
                [sys.executable, "-c", "import sys; open(sys.argv[1], 'rb').read()", str(mp / r)],
                stderr=subprocess.DEVNULL,
            )
            for r in (stuck if jam else [])
        ]
        deadline = time.monotonic() + 60
        while jam and sum(s.fetcher.status()["waiting_by_disc"].values()) < waiting and time.monotonic() < deadline:
            time.sleep(0.1)  # until every one of them waits for its disc
        time.sleep(1.0)
        try:
            res = json.loads(
                run([sys.executable, "-c", MEASURE, str(mp), json.dumps(stats), json.dumps(cached)]).stdout
            )
            res["waiting_after"] = sum(s.fetcher.status()["waiting_by_disc"].values())
            out[label] = res
        finally:
            robot.released.set()
            for p in readers:
                p.wait(120)
            unmount(mp)
            server.join(30)
            s.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "mount")
    ap.add_argument("--catalogue-files", type=int, default=10_000_000)
    ap.add_argument("--parts", default="big,huge,waiting", help="which of the three to run (comma-separated)")
    args = ap.parse_args()
    work = args.work.absolute()
    parts = args.parts.split(",")
    report = {}
    if "big" in parts:
        b = report["big_directory"] = big_directory(work)
        print(
            f"ls -l of 100,000 entries: first {b['ls_l_first_s']:.2f} s, again {b['ls_l_again_s']:.2f} s"
            f" (native {b['native_ls_l_s']:.2f} s); listdir {b['listdir_s']:.2f} s",
            flush=True,
        )
    if "huge" in parts:
        h = report["huge_catalogue"] = huge_catalogue(work, args.catalogue_files)
        print(
            f"{h['files']:,}-file catalogue, one 1,000-entry directory: listdir {h['listdir_first_s'] * 1e3:.1f} ms,"
            f" ls -l {h['ls_l_first_s'] * 1e3:.1f} ms (first after mounting, median of 3);"
            f" RSS {h['runs'][-1]['rss_ready_bytes'] / 1e6:.0f} MB ready, {h['runs'][-1]['rss_after_bytes'] / 1e6:.0f} MB after",
            flush=True,
        )
    if "waiting" in parts:
        for label, r in report.setdefault("waiting_reads", waiting_reads(work)).items():
            print(
                f"lstat with {label}: p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, max {r['max_ms']:.1f} ms;"
                f" cached reads {r['cached_reads_per_s']:.0f}/s",
                flush=True,
            )
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
