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
from bench_mount import ODARCHIVE, REPO, mount_odarchive, mount_pid, rss_bytes, run, timed  # noqa: E402


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
            rows.append({"mount_s": mount_s, "rss_ready_bytes": ready, "listdir_s": timed(lambda: os.listdir(a)),
                         "ls_l_s": _ls_l(b), "rss_after_bytes": rss_bytes(pid)})
        finally:
            _umount(home, mp)
    return {"files": files, "listdir_first_s": statistics.median(r["listdir_s"] for r in rows),
            "ls_l_first_s": statistics.median(r["ls_l_s"] for r in rows), "runs": rows}


def _stat_latencies(mp: Path, rels: list[str]) -> dict:
    lat = []
    for r in rels:
        t = time.perf_counter()
        os.lstat(mp / r)
        lat.append(time.perf_counter() - t)
    lat.sort()
    return {"p50_ms": lat[len(lat) // 2] * 1e3, "p99_ms": lat[int(len(lat) * 0.99)] * 1e3, "max_ms": lat[-1] * 1e3}


def _cached_reads_per_s(mp: Path, rels: list[str]) -> float:
    def go() -> None:
        for r in rels:
            with open(mp / r, "rb") as f:
                f.read()

    go()  # fill the cache
    return len(rels) / timed(go)


def waiting_reads(work: Path, waiting: int = 16) -> dict:
    import sqlite3

    db = sqlite3.connect(work / "home" / "catalogue.sqlite")
    on_disc = {}
    for path, disc in db.execute(
        "SELECT e.name, p.disc_id FROM entries e JOIN placements p ON p.content_id = e.content_id WHERE e.kind = 'f'"
    ):
        on_disc[bytes(path).decode()] = disc
    db.close()
    small = sorted(str(p.relative_to(work / "tree")) for p in (work / "tree" / "data").rglob("*.txt"))
    stuck = [r for r in small if on_disc.get(Path(r).name) == 0][:waiting]
    others = [r for r in small if on_disc.get(Path(r).name) != 0]
    rnd = random.Random(5)
    images = work / "images-stuck"
    shutil.rmtree(images, ignore_errors=True)
    images.mkdir()
    for img in (work / "images").iterdir():
        (images / img.name).symlink_to(img)
    (images / "disc0.iso").unlink()
    os.mkfifo(images / "disc0.iso")  # opening it hangs: a disc that never comes
    out = {}
    for label, hang in (("idle", False), ("16_waiting", True)):
        mp = work / "mnt-waiting"
        shutil.rmtree(work / "cache-waiting", ignore_errors=True)
        mount_odarchive(work / "home", mp, "--images", str(images), "--cache-dir", str(work / "cache-waiting"),
                        "--cache-size", "0", "--cache-min-free", "0")
        threads = []
        try:
            if hang:
                threads = [threading.Thread(target=lambda r=r: _try_read(mp / r), daemon=True) for r in stuck]
                for t in threads:
                    t.start()
                time.sleep(1.0)
            res = _stat_latencies(mp, rnd.sample(others, 2000))
            res["cached_reads_per_s"] = _cached_reads_per_s(mp, rnd.sample(others, 300))
            res["waiting"] = sum(t.is_alive() for t in threads)
            out[label] = res
        finally:
            if hang:
                fd = os.open(images / "disc0.iso", os.O_WRONLY | os.O_NONBLOCK)  # let the hanging open end
                os.close(fd)
            _umount(work / "home", mp)
    return out


def _try_read(path: Path) -> None:
    try:
        path.read_bytes()
    except OSError:
        pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "mount")
    ap.add_argument("--catalogue-files", type=int, default=10_000_000)
    args = ap.parse_args()
    work = args.work.absolute()
    report = {"big_directory": big_directory(work), "huge_catalogue": huge_catalogue(work, args.catalogue_files),
              "waiting_reads": waiting_reads(work)}
    print(json.dumps(report, indent=2))
    b, h, w = report["big_directory"], report["huge_catalogue"], report["waiting_reads"]
    print(f"\nls -l of 100,000 entries: first {b['ls_l_first_s']:.2f} s, again {b['ls_l_again_s']:.2f} s"
          f" (native {b['native_ls_l_s']:.2f} s); listdir {b['listdir_s']:.2f} s")
    print(f"{h['files']:,}-file catalogue, one 1,000-entry directory: listdir {h['listdir_first_s'] * 1e3:.1f} ms,"
          f" ls -l {h['ls_l_first_s'] * 1e3:.1f} ms (first after mounting, median of 3);"
          f" RSS {h['runs'][-1]['rss_ready_bytes'] / 1e6:.0f} MB ready, {h['runs'][-1]['rss_after_bytes'] / 1e6:.0f} MB after")
    for label, r in w.items():
        print(f"lstat with {label}: p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms, max {r['max_ms']:.1f} ms;"
              f" cached reads {r['cached_reads_per_s']:.0f}/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
