#!/usr/bin/env python3
"""Mount benchmark: `odarchive mount` against ratarmount (a tar of the same tree) and the native tree.

Same run, same tree (FILES small files in directories of 1000, plus one BIG_MB file):
  1. metadata: `find` over every entry, then `lstat` of every file (warm: one untimed run first)
  2. small-file reads per second (a random sample; odarchive: after the cache holds them,
     and once cold, fetched from the disc images)
  3. sequential read MB/s of the big file with the page cache dropped before each read
     (odarchive: from its cache; also the first read, fetched from the disc images)
  4. a synthetic catalogue of CATALOGUE_FILES entries (default 10 million): mount start-up
     time (command to ready) and the mount process's RSS, against a 1-million catalogue
  5. disc loads for random batches of reads (all issued within 20 ms, one thread each) through
     the fetcher on a fake one-drive robot: against the distinct discs of the batch (the
     optimum) and first-come order (one drive serving the requests in arrival order)

ratarmount is installed with pip into its own venv under the work directory (not a
dependency of odarchive). The disc images are synthetic (tests.lib.mount_archive): the bytes
lie at recorded extents, as in a real image, without building ISO file systems.

Usage: .venv/bin/python benchmarks/bench_mount.py [--files N] [--big-mb N]
           [--catalogue-files N] [--work DIR] [--skip-ratarmount] [--metadata-only [--mounts N]]
(--metadata-only: step 1 alone, for iterating on lookups and listings; --mounts N: each side
mounted N times in turn, the run with the median first pass reported, every first pass listed.)
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PY = sys.executable
ODARCHIVE = [PY, "-m", "odarchive"]
MiB = 1 << 20


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def best_of(fn, runs: int = 3) -> float:
    fn()  # warm-up, untimed
    return min(timed(fn) for _ in range(runs))


def drop_caches() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


# ---- setup ----
def make_tree(root: Path, files: int, big_mb: int) -> None:
    if root.exists():
        shutil.rmtree(root)
    rnd = os.urandom(MiB)
    for i in range(files):
        d = root / f"d{i // 1000:04d}"
        if i % 1000 == 0:
            d.mkdir(parents=True)
        size = 200 + (i * 7919) % 3800
        off = (i * 104729) % (len(rnd) - size)
        (d / f"f{i:06d}.txt").write_bytes(i.to_bytes(8, "little") + rnd[off : off + size - 8])
    with open(root / "big.bin", "wb") as f:
        for _ in range(big_mb):
            f.write(os.urandom(MiB))


def setup(work: Path, files: int, big_mb: int) -> dict:
    from tests.lib.mount_archive import place_on_discs

    stamp = work / "setup.json"
    want = {"files": files, "big_mb": big_mb}
    if stamp.exists() and json.loads(stamp.read_text()) == want:
        return want
    for p in ("tree", "home", "images", "tree.tar"):
        shutil.rmtree(work / p, ignore_errors=True) if (work / p).is_dir() else (work / p).unlink(missing_ok=True)
    print(f"# making a tree of {files} files + {big_mb} MB, its catalogue, 10 disc images and a tar", flush=True)
    make_tree(work / "tree" / "data", files, big_mb)
    run([*ODARCHIVE, "--home", str(work / "home"), "create_db", str(work / "tree" / "data")])
    place_on_discs(work / "home" / "catalogue.sqlite", work / "images", 10, chunk=16 * MiB)
    run(["tar", "cf", str(work / "tree.tar"), "-C", str(work / "tree"), "data"])
    stamp.write_text(json.dumps(want))
    return want


def ratarmount_bin(work: Path) -> Path:
    venv = work / "ratarmount-venv"
    exe = venv / "bin" / "ratarmount"
    if not exe.exists():
        print("# installing ratarmount into its own venv", flush=True)
        run([sys.executable, "-m", "venv", str(venv)])
        run([str(venv / "bin" / "pip"), "install", "-q", "ratarmount"])
    return exe


def wait_mounted(mp: Path, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while not os.path.ismount(mp):
        if time.monotonic() > deadline:
            raise SystemExit(f"{mp} did not get mounted")
        time.sleep(0.05)


def unmount(mp: Path) -> None:
    if os.path.ismount(mp):
        subprocess.run(["fusermount3", "-u", str(mp)], check=False)
        deadline = time.monotonic() + 30
        while os.path.ismount(mp) and time.monotonic() < deadline:
            time.sleep(0.05)


def mount_odarchive(home: Path, mp: Path, *flags: str) -> float:
    unmount(mp)
    mp.mkdir(parents=True, exist_ok=True)
    return timed(lambda: run([*ODARCHIVE, "--home", str(home), "mount", str(mp), *flags]))


def mount_pid(home: Path, mp: Path) -> int:
    for p in (home / "jobs").glob("mount-*.json"):
        r = json.loads(p.read_text())
        if r.get("mountpoint") == str(mp):
            return int(r["pid"])
    raise SystemExit("no status record for the mount")


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


# ---- measurements ----
SECOND_PASSES = 3


def metadata(top: Path, rel_files: list[str], fresh: bool = True) -> dict:
    """`lstat` of every file: the first pass right after mounting (nothing cached by the
    kernel), then the best of SECOND_PASSES further passes (every run kept in
    `stat_runs_s`); fresh=False (native): the first pass is an untimed warm-up, so both sides
    report the best of the same number of warm passes. Then `find`."""
    found = []

    def find() -> None:
        out = subprocess.run(["find", str(top / "data")], check=True, capture_output=True).stdout
        found.append(out.count(b"\n"))

    def stat_all() -> None:
        for r in rel_files:
            os.lstat(top / r)

    first = timed(stat_all)
    runs = [timed(stat_all) for _ in range(SECOND_PASSES)]
    return {
        "stat_first_s": first if fresh else min(runs),
        "stat_s": min(runs),
        "stat_runs_s": runs,
        "find_s": best_of(find),
        "find_entries": found[-1],
    }


def read_whole(path: Path) -> None:
    with open(path, "rb", buffering=0) as f:
        while f.read(MiB):
            pass


def seq_warm(path: Path, runs: int = 3) -> float:
    """MB/s of re-reading `path` in 1 MiB reads with the page cache warm (read once first);
    best of `runs`. Through the mount the kernel's page cache serves it (keep_cache), as on
    the native tree: both read the same 256 MB file the same way."""
    size = path.stat().st_size
    read_whole(path)
    return max(size / MiB / timed(lambda: read_whole(path)) for _ in range(runs))


def fio(path: Path, rw: str, bs: str, jobs: int = 1, runtime_s: int = 5) -> dict:
    """fio on one existing file (read-only): MB/s and IOPS; the page cache is dropped first
    (and fio's invalidate=1 drops the file's pages again)."""
    drop_caches()
    out = run(
        [
            "fio",
            "--name=bench",
            f"--filename={path}",
            "--readonly",
            f"--rw={rw}",
            f"--bs={bs}",
            "--ioengine=psync",
            f"--numjobs={jobs}",
            "--group_reporting",
            f"--runtime={runtime_s}",
            "--time_based",
            "--invalidate=1",
            "--output-format=json",
        ]
    ).stdout
    job = json.loads(out)["jobs"][0]["read"]
    return {"MBps": job["bw_bytes"] / MiB, "iops": job["iops"]}


def fio_all(path: Path) -> dict:
    return {"seq_1M": fio(path, "read", "1M"), "rand_4k_4jobs": fio(path, "randread", "4k", jobs=4)}


def image_read_MBps(images: list[Path]) -> float:
    """The simulated drive's sequential rate: reading the disc images, page cache dropped."""
    drop_caches()
    total, t = 0, time.perf_counter()
    for img in images:
        with open(img, "rb", buffering=0) as f:
            while block := f.read(MiB):
                total += len(block)
    return total / MiB / (time.perf_counter() - t)


def read_files(top: Path, rels: list[str]) -> float:
    def go() -> None:
        for r in rels:
            with open(top / r, "rb") as f:
                f.read()

    return len(rels) / timed(go)


def seq_read(path: Path, runs: int = 3) -> float:
    """MB/s of reading `path` in 1 MiB blocks, page cache dropped first; best of `runs`."""
    size = path.stat().st_size
    best = 0.0
    for _ in range(runs):
        drop_caches()
        best = max(best, size / MiB / timed(lambda: read_whole(path)))
    return best


def big_images(work: Path) -> list[Path]:
    """The images holding the big file (it is split over two discs)."""
    from odarchive.catalogue import Catalogue
    from tests.lib.trees import placements_of

    with Catalogue.open(work / "home" / "catalogue.sqlite", readonly=True) as cat:
        discs = sorted({disc for _, disc, *_ in placements_of(cat, b"data/big.bin")})
    return [work / "images" / f"disc{d}.iso" for d in discs]


def contenders(work: Path, skip_ratarmount: bool, metadata_only: bool = False, mounts: int = 1) -> dict:
    rel_files = sorted(str(p.relative_to(work / "tree")) for p in (work / "tree" / "data").rglob("*") if p.is_file())
    small = [r for r in rel_files if not r.endswith("big.bin")]
    sample = random.Random(1).sample(small, min(2000, len(small)))
    cold = random.Random(2).sample([r for r in small if r not in set(sample)], min(500, len(small) - len(sample)))
    big = "data/big.bin"
    results: dict = {}

    if metadata_only:
        return metadata_contenders(work, rel_files, skip_ratarmount, mounts)
    read_files(work / "tree", sample)  # warm
    results["native"] = {**metadata(work / "tree", rel_files, fresh=False), **read_measures(work / "tree", sample)}

    mp = work / "mnt-odarchive"
    shutil.rmtree(work / "cache", ignore_errors=True)
    start = mount_odarchive(
        work / "home",
        mp,
        "--images",
        str(work / "images"),
        "--cache-dir",
        str(work / "cache"),
        "--cache-size",
        "0",
        "--cache-min-free",
        "0",
    )
    try:
        o = {"mount_s": start, **metadata(mp, rel_files)}
        o["cold_small_reads_per_s"] = read_files(mp, cold)
        read_files(mp, sample)  # fill the cache
        o["small_reads_per_s"] = read_files(mp, sample)
        drop_caches()
        o["first_seq_MBps"] = seq_read(mp / big, runs=1)  # from the disc images into the cache
        o["image_read_MBps"] = image_read_MBps(big_images(work))
        o["seq_MBps"] = seq_read(mp / big)
        o["seq_warm_MBps"] = seq_warm(mp / big)
        # the native warm re-read again, in the same minute: on a loaded machine the native
        # figure taken minutes earlier is no fair peer (the load changes, both are CPU-bound)
        o["seq_warm_native_now_MBps"] = seq_warm(work / "tree" / big)
        o["fio"] = fio_all(mp / big)
        o["rss_bytes"] = rss_bytes(mount_pid(work / "home", mp))
        results["odarchive"] = o
    finally:
        run([*ODARCHIVE, "--home", str(work / "home"), "umount", str(mp)])

    if not skip_ratarmount:
        mp, mount_s = ratarmount_mounted(work)
        read_files(mp, sample)
        results["ratarmount"] = {"mount_s": mount_s, **metadata(mp, rel_files), **read_measures(mp, sample)}
        unmount(mp)
    for name, res in results.items():
        assert res["find_entries"] == results["native"]["find_entries"], f"{name} lists {res['find_entries']} entries"
    return results


def read_measures(top: Path, sample: list[str]) -> dict:
    """Small-file reads per second of `sample` (read once before), then the big file read
    sequentially (page cache dropped), re-read warm, and fio on it."""
    big = top / "data" / "big.bin"
    return {
        "small_reads_per_s": read_files(top, sample),
        "seq_MBps": seq_read(big),
        "seq_warm_MBps": seq_warm(big),
        "fio": fio_all(big),
    }


def cached_reads(work: Path, skip_ratarmount: bool) -> dict:
    """Only the cached reads of step 2 and 3 (`--parts cached_reads`): native, odarchive once
    its cache holds the files (the warm re-read of the native file again in the same
    minute), ratarmount; no metadata, no first read from the discs."""
    rel_files = sorted(str(p.relative_to(work / "tree")) for p in (work / "tree" / "data").glob("*/*.txt"))
    sample = random.Random(1).sample(rel_files, min(2000, len(rel_files)))
    read_files(work / "tree", sample)
    results = {"native": read_measures(work / "tree", sample)}
    mp = work / "mnt-odarchive"
    flags = ("--images", str(work / "images"), "--cache-dir", str(work / "cache"), "--cache-size", "0")
    mount_odarchive(work / "home", mp, *flags, "--cache-min-free", "0")
    try:
        read_files(mp, sample)  # into the cache (kept across runs: a first read is not measured here)
        read_whole(mp / "data" / "big.bin")
        results["odarchive"] = read_measures(mp, sample)
        results["odarchive"]["seq_warm_native_now_MBps"] = seq_warm(work / "tree" / "data" / "big.bin")
    finally:
        run([*ODARCHIVE, "--home", str(work / "home"), "umount", str(mp)])
    if not skip_ratarmount:
        mp = ratarmount_mounted(work)[0]
        read_files(mp, sample)
        results["ratarmount"] = read_measures(mp, sample)
        unmount(mp)
    return results


def summarize_reads(c: dict) -> None:
    o, n, r = c["odarchive"], c["native"], c.get("ratarmount")
    print("\n# reads (odarchive / peer: above 1 is faster)")
    for key in ("small_reads_per_s", "seq_MBps", "seq_warm_MBps"):
        line = f"{key:24} odarchive {o[key]:8.0f}    native {n[key]:8.0f}    odarchive/native {o[key] / n[key]:5.2f}"
        if r:
            line += f"  ratarmount {r[key]:8.0f}  odarchive/ratarmount {o[key] / r[key]:5.2f}"
        print(line)
    now = o["seq_warm_native_now_MBps"]
    print(
        f"{'seq_warm, same minute':24} odarchive {o['seq_warm_MBps']:8.0f}    native {now:8.0f}    odarchive/native {o['seq_warm_MBps'] / now:5.2f}"
    )
    for key in ("seq_1M", "rand_4k_4jobs"):
        line = f"fio {key:20} odarchive {o['fio'][key]['MBps']:8.0f} MB/s native {n['fio'][key]['MBps']:8.0f} MB/s"
        line += f"  odarchive/native {o['fio'][key]['MBps'] / n['fio'][key]['MBps']:5.2f}"
        if r:
            line += f"  ratarmount {r['fio'][key]['MBps']:8.0f} MB/s"
        print(line)


def metadata_contenders(work: Path, rel_files: list[str], skip_ratarmount: bool, mounts: int = 1) -> dict:
    """Only step 1 (`--metadata-only`): the same mounts as `contenders`, metadata measured, each
    side mounted afresh `mounts` times, odarchive and ratarmount in turn (a first pass happens
    once per mount, and on a shared machine one run is noise): the run with the median first
    pass is reported, every first pass in `stat_first_runs_s`."""
    results = {"native": metadata(work / "tree", rel_files, fresh=False)}
    runs: dict[str, list[dict]] = {"odarchive": [], "ratarmount": []}
    for _ in range(mounts):
        mp = work / "mnt-odarchive"
        mount_odarchive(work / "home", mp, "--images", str(work / "images"), "--cache-dir", str(work / "cache"))
        try:
            runs["odarchive"].append({**metadata(mp, rel_files), "rss_bytes": rss_bytes(mount_pid(work / "home", mp))})
        finally:
            run([*ODARCHIVE, "--home", str(work / "home"), "umount", str(mp)])
        if not skip_ratarmount:
            runs["ratarmount"].append(metadata(ratarmount_mounted(work)[0], rel_files))
            unmount(work / "mnt-ratarmount")
    for name, rows in runs.items():
        if rows:
            firsts = [r["stat_first_s"] for r in rows]
            median = sorted(rows, key=lambda r: r["stat_first_s"])[len(rows) // 2]
            results[name] = {**median, "stat_first_runs_s": firsts}
    return results


def ratarmount_mounted(work: Path) -> tuple[Path, float]:
    """Mount the tar with ratarmount (its index made afresh): (mountpoint, seconds to mounted)."""
    exe = ratarmount_bin(work)
    mp = work / "mnt-ratarmount"
    unmount(mp)
    mp.mkdir(exist_ok=True)
    for index in work.glob("tree.tar.index.sqlite"):
        index.unlink()
    t = time.perf_counter()
    run([str(exe), str(work / "tree.tar"), str(mp)])
    wait_mounted(mp)
    return mp, time.perf_counter() - t


def startup(work: Path, sizes: list[int]) -> dict:
    from tests.lib.synthetic_catalogue import synthetic_catalogue

    out = {}
    empty = work / "no-images"
    empty.mkdir(exist_ok=True)
    for n in sizes:
        home = work / f"synthetic-{n}"
        cat = home / "catalogue.sqlite"
        if not (home / "done").exists():
            shutil.rmtree(home, ignore_errors=True)
            home.mkdir(parents=True)
            print(f"# generating a synthetic catalogue of {n:,} files", flush=True)
            t = time.perf_counter()
            synthetic_catalogue(cat, n, per_dir=1000)
            (home / "done").write_text(f"{time.perf_counter() - t:.0f} s\n")
        mp = work / f"mnt-synthetic-{n}"
        times = []
        for _ in range(3):
            times.append(mount_odarchive(home, mp, "--images", str(empty), "--cache-dir", str(work / f"cache-{n}")))
            pid = mount_pid(home, mp)
            rss_ready = rss_bytes(pid)
            t = time.perf_counter()
            last_dir = f"d{(n - 1) // 1000:05d}"
            names = os.listdir(mp / "big" / last_dir)
            for i in random.Random(3).sample(range(n), 2000):
                os.lstat(mp / "big" / f"d{i // 1000:05d}" / f"f{i:07d}")
            browse_s = time.perf_counter() - t
            rss_browsed = rss_bytes(pid)
            run([*ODARCHIVE, "--home", str(home), "umount", str(mp)])
        out[n] = {
            "entries": n,
            "catalogue_bytes": cat.stat().st_size,
            "mount_s": statistics.median(times),
            "rss_ready_bytes": rss_ready,
            "rss_after_browse_bytes": rss_browsed,
            "stat_2000_s": browse_s,
            "listed": len(names),
        }
    return out


def first_read(work: Path, runs: int = 3) -> dict:
    """The first read of the big file, fetched from the disc images and verified into an empty
    cache, `runs` times (a fresh mount and cache each, page cache dropped), against the images'
    own sequential read in the same minutes (page cache dropped too)."""
    big = "data/big.bin"
    images = big_images(work)
    mp = work / "mnt-first"
    rates, image_rates = [], []
    for _ in range(runs):
        shutil.rmtree(work / "cache-first", ignore_errors=True)
        flags = ("--images", str(work / "images"), "--cache-dir", str(work / "cache-first"))
        mount_odarchive(work / "home", mp, *flags, "--cache-size", "0", "--cache-min-free", "0")
        try:
            drop_caches()
            rates.append(seq_read(mp / big, runs=1))
        finally:
            run([*ODARCHIVE, "--home", str(work / "home"), "umount", str(mp)])
        image_rates.append(image_read_MBps(images))
    return {"first_seq_MBps": rates, "image_read_MBps": image_rates}


class PacedDrives:
    """A disc source whose drives read no faster than `rate` bytes/s each, around another: each
    read takes at least its length / rate from its start (a real optical drive; BD 16x is about
    72 MB/s). No time is banked: a drive that was idle does not read faster afterwards."""

    def __init__(self, inner, rate: float) -> None:
        self._inner, self._rate = inner, rate
        self.free_loads = True  # opening an image: no gathering, as with the images unpaced

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    def _pace(self, start: float, nbytes: int) -> None:
        left = start + nbytes / self._rate - time.monotonic()
        if left > 0:
            time.sleep(left)

    def read(self, drive: int, offset: int, length: int) -> bytes:
        start = time.monotonic()
        data = self._inner.read(drive, offset, length)
        self._pace(start, length)
        return data

    def read_into(self, drive: int, offset: int, buffer: memoryview) -> None:
        start = time.monotonic()
        self._inner.read_into(drive, offset, buffer)
        self._pace(start, len(buffer))


def first_read_paced(work: Path, rate: float = 72e6, runs: int = 2) -> dict:
    """The first read of the big file from disc images read no faster than `rate` (a BD 16x
    drive), through the mount's parts served in this process (`fuse_ops.serve`, the wiring of
    `odarchive mount --images`: the images behind `RescuingSource`), the file read by `dd`-like
    1 MiB reads from another process; against the paced drive's own sequential read of the
    same images (16 MiB reads, as the fetcher's chunks)."""
    from fuse_mount.cache import Cache, CacheConfig
    from fuse_mount.catalogue_view import Disc
    from fuse_mount.discs import ImageDirSource
    from fuse_mount.fuse_ops import serve
    from fuse_mount.rescue import RescuingSource
    from fuse_mount.service import ArchiveService, MountConfig
    from odarchive.app.mount_adapter import CatalogueAdapter
    from odarchive.app.mount_ecc import EccRepairer

    size = (work / "tree" / "data" / "big.bin").stat().st_size
    mp = work / "mnt-paced"
    mp.mkdir(exist_ok=True)
    rates, drive_rates = [], []
    for _ in range(runs):
        shutil.rmtree(work / "cache-paced", ignore_errors=True)
        cache = Cache.open(CacheConfig(work / "cache-paced", chunk_bytes=16 * MiB, min_free_bytes=0, max_bytes=0))
        source = RescuingSource(
            PacedDrives(ImageDirSource(work / "images", drives=1), rate),  # one drive: its rate is the peer
            EccRepairer(work / "home" / "catalogue.sqlite", work / "home"),
        )
        service = ArchiveService(
            CatalogueAdapter(work / "home" / "catalogue.sqlite"), source, cache, MountConfig(images="images")
        )
        server = threading.Thread(target=serve, args=(service.vfs, str(mp)), daemon=True)
        server.start()
        try:
            wait_mounted(mp)
            drop_caches()
            reader = "import sys\nwith open(sys.argv[1], 'rb', buffering=0) as f:\n    while f.read(1 << 20): pass"
            rates.append(size / MiB / timed(lambda: run([PY, "-c", reader, str(mp / "data" / "big.bin")])))
        finally:
            unmount(mp)
            server.join(30)
            service.close()
        drop_caches()
        paced = PacedDrives(ImageDirSource(work / "images", drives=1), rate)
        total, t = 0, time.perf_counter()
        for image in big_images(work):
            paced.load(0, Disc(0, "", image.name, "written"))
            buffer = bytearray(16 * MiB)
            for offset in range(0, image.stat().st_size - len(buffer) + 1, len(buffer)):
                paced.read_into(0, offset, memoryview(buffer))
                total += len(buffer)
        drive_rates.append(total / MiB / (time.perf_counter() - t))
    return {"rate_bytes_per_s": rate, "first_seq_MBps": rates, "drive_read_MBps": drive_rates}


def disc_loads(work: Path, batches: int = 5, batch: int = 64) -> dict:
    from fuse_mount.cache import Cache, CacheConfig
    from fuse_mount.discs import RobotSource
    from fuse_mount.service import ArchiveService, MountConfig
    from odarchive.app.mount_adapter import CatalogueAdapter
    from tests.lib.mount_fakes import FakeRobot
    from tests.lib.trees import discs_holding

    catalogue = work / "home" / "catalogue.sqlite"
    images = {d + 1: work / "images" / f"disc{d}.iso" for d in range(10)}
    labels = {s: f"ODARCHIVE_{s - 1:04d}" for s in images}
    small = sorted(str(p.relative_to(work / "tree")) for p in (work / "tree" / "data").rglob("*.txt"))
    rnd = random.Random(4)
    rows = []
    for _b in range(batches):
        shutil.rmtree(work / "cache-loads", ignore_errors=True)
        robot = FakeRobot(images, labels, drives=1, load_s=0.02)
        cache = Cache.open(CacheConfig(work / "cache-loads", chunk_bytes=16 * MiB, min_free_bytes=0, max_bytes=0))
        service = ArchiveService(
            CatalogueAdapter(catalogue),
            RobotSource(robot, robot.drives),
            cache,
            MountConfig(disc_timeout_s=60),
        )
        picks = rnd.sample(small, batch)

        def reader(rel: str, delay_s: float) -> None:  # arrivals spread over 20 ms, in `picks` order
            time.sleep(delay_s)
            fh = service.vfs.open(b"/" + rel.encode())
            service.vfs.read(fh, 1 << 20, 0)
            service.vfs.release(fh)

        threads = [threading.Thread(target=reader, args=(r, i * 0.02 / batch)) for i, r in enumerate(picks)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        service.close()
        discs = [
            min(discs_holding(catalogue, hashlib.sha256((work / "tree" / r).read_bytes()).digest())) for r in picks
        ]
        fifo = 1 + sum(1 for a, b2 in itertools.pairwise(discs) if a != b2)
        rows.append(
            {
                "reads": batch,
                "distinct_discs": len(set(discs)),
                "odarchive_loads": len(robot.loads),
                "first_come_loads": fifo,
            }
        )
    return {"batches": rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--big-mb", type=int, default=256)
    ap.add_argument("--catalogue-files", type=int, default=10_000_000)
    ap.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "mount")
    ap.add_argument("--skip-ratarmount", action="store_true")
    ap.add_argument("--metadata-only", action="store_true", help="only step 1 (find, lstat passes)")
    ap.add_argument("--mounts", type=int, default=1, help="with --metadata-only: mount each side this many times")
    ap.add_argument(
        "--parts",
        default="contenders,disc_loads,startup",
        help="which steps to run, comma-separated: contenders, cached_reads (steps 2-3 from a filled"
        " cache, no metadata and no first read), first_read (the first read from the"
        " disc images alone, 3 runs), first_read_paced (the same, the images read no faster than a"
        " BD 16x drive's 72 MB/s), disc_loads, startup",
    )
    args = ap.parse_args()
    work = args.work.absolute()
    work.mkdir(parents=True, exist_ok=True)
    setup(work, args.files, args.big_mb)
    report = {"tree": {"files": args.files, "big_mb": args.big_mb}, "page_cache_dropped": drop_caches()}
    steps = {
        "contenders": lambda: contenders(work, args.skip_ratarmount, args.metadata_only, args.mounts),
        "cached_reads": lambda: cached_reads(work, args.skip_ratarmount),
        "first_read": lambda: first_read(work),
        "first_read_paced": lambda: first_read_paced(work),
        "disc_loads": lambda: disc_loads(work),
        "startup": lambda: startup(work, sorted({1_000_000, args.catalogue_files})),
    }
    for key in ["contenders"] if args.metadata_only else args.parts.split(","):
        report[key] = steps[key]()
        (work / "report.json").write_text(json.dumps(report, indent=2))  # kept if a later step fails
    print(json.dumps(report, indent=2))
    summarize(report)
    return 0


def summarize_metadata(c: dict) -> None:
    o, n, r = c["odarchive"], c["native"], c.get("ratarmount")
    print(f"\n# metadata (second pass: best of {SECOND_PASSES} after the first, on every side; every run listed)")
    for key in ("find_s", "stat_first_s", "stat_s"):
        line = f"{key:24} odarchive {o[key]:8.3f} s  native {n[key]:8.3f} s  odarchive/native {o[key] / n[key]:5.2f}"
        if r:
            line += f"  ratarmount {r[key]:8.3f} s  odarchive/ratarmount {o[key] / r[key]:5.2f}"
        print(line)
    for name, res in c.items():
        print(f"second passes {name:10} " + " ".join(f"{t:.3f}" for t in res["stat_runs_s"]))
    for name, res in c.items():
        if "stat_first_runs_s" in res:
            print(
                f"first passes  {name:10} " + " ".join(f"{t:.3f}" for t in res["stat_first_runs_s"]) + " (one a mount)"
            )


def summarize(report: dict) -> None:
    if "contenders" in report:
        summarize_contenders(report["contenders"])
    if "cached_reads" in report:
        summarize_reads(report["cached_reads"])
    if "first_read" in report:
        f = report["first_read"]
        for mine, images in zip(f["first_seq_MBps"], f["image_read_MBps"], strict=True):
            print(
                f"first big read {mine:.0f} MB/s against the images' sequential read {images:.0f} MB/s: {mine / images:.2f}x"
            )
    if "first_read_paced" in report:
        f = report["first_read_paced"]
        for mine, drive in zip(f["first_seq_MBps"], f["drive_read_MBps"], strict=True):
            print(
                f"first big read, drive paced at {f['rate_bytes_per_s'] / 1e6:.0f} MB/s: {mine:.0f} MB/s against"
                f" the paced drive's own sequential read {drive:.0f} MB/s: {mine / drive:.2f}x"
            )
    for n_, s in report.get("startup", {}).items():
        print(
            f"catalogue {int(n_):>11,} entries ({s['catalogue_bytes'] / 1e6:.0f} MB): mount {s['mount_s']:.2f} s, "
            f"RSS {s['rss_ready_bytes'] / 1e6:.0f} MB ready, {s['rss_after_browse_bytes'] / 1e6:.0f} MB after 2000 stats"
        )
    for b in report.get("disc_loads", {}).get("batches", []):
        print(
            f"batch of {b['reads']} reads: {b['distinct_discs']} distinct discs, odarchive loaded {b['odarchive_loads']},"
            f" first-come order would load {b['first_come_loads']}"
        )


def summarize_contenders(c: dict) -> None:
    summarize_metadata(c)
    if "small_reads_per_s" not in c["odarchive"]:
        return
    summarize_reads(c)
    o = c["odarchive"]
    print(
        f"{'cold small reads/s':24} {o['cold_small_reads_per_s']:.0f} (fetched from disc images); "
        f"first big read {o['first_seq_MBps']:.0f} MB/s against the images' sequential read"
        f" {o['image_read_MBps']:.0f} MB/s: {o['first_seq_MBps'] / o['image_read_MBps']:.2f}x"
    )


if __name__ == "__main__":
    sys.exit(main())
