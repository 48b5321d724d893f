#!/usr/bin/env python3
"""create_iso against genisoimage and xorriso on the same file sets, plus the planner's fill ratio.

    flock /work/bench.lock .venv/bin/python benchmarks/bench_iso.py [--data-mb 1024] [--small 100000] [--workdir DIR]
        [--peers genisoimage,xorriso] [--peer-timeout SECONDS] [--sets data,small]
    flock /work/bench.lock .venv/bin/python benchmarks/bench_iso.py --memory 100000,1000000 [--workdir DIR]

Data-heavy set: files of 1-256 MB of random bytes (planned as `bd`); small set: N files of a
few bytes in one directory (planned as `bd-xl`, as issue 11 measures it). Each tool runs in a
subprocess (wall time, peak RSS from getrusage): `odarchive create_iso`, `genisoimage
-iso-level 3 -J -R -udf -joliet-long` (the UDF bridge, like ours) and `xorriso -as mkisofs
-iso-level 3 -J -R -joliet-long` (xorriso writes no UDF). The catalogue is filled in-process
with `scan_source` (scanning is benchmarked in bench_scan.py). Every tool reads the same files
from the page cache (warm: the set is read once before the first tool), writes to the same
disk and ends with the image on the disk (create_iso fsyncs it; the others are followed by
`sync FILE`). Prints MB/s, seconds per 100,000 files, peak memory and the ratios.

`--peers`: which peer tools run (default both; xorriso took over 17 minutes on the
100,000-file directory under load, so `--peers genisoimage` leaves it out); a peer that runs
longer than `--peer-timeout` seconds is stopped and reported as such, not timed.

`--sets small` measures the tiny-file set alone (`--sets data` the data set alone).

`--memory N,M,...`: only `plan_iso`'s and `create_iso`'s peak RSS (and time) for N, M, ...
tiny files in directories of 1,000 (one bd-xl disc each), and the memory per file between the
counts.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from odarchive.catalogue import Catalogue  # noqa: E402
from odarchive.plan.planner import plan  # noqa: E402
from odarchive.scan import scan_source  # noqa: E402

ODARCHIVE = [str(ROOT / ".venv/bin/odarchive")]


PEERS = {
    "genisoimage": "genisoimage -quiet -iso-level 3 -J -R -udf -joliet-long",
    "xorriso": "xorriso -as mkisofs -quiet -iso-level 3 -J -R -joliet-long",
}
TIMED_OUT = (float("inf"), float("nan"))


def timed(cmd: list[str], timeout: float | None = None) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one command run in a child process (its own process
    group); `TIMED_OUT` if it ran longer than `timeout` seconds (the group is killed)."""
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execvp(cmd[0], cmd)
    deadline = None if timeout is None else t0 + timeout
    while True:
        got, status, usage = os.wait4(pid, os.WNOHANG if deadline is not None else 0)
        if got:
            break
        if deadline is not None and time.monotonic() > deadline:
            os.killpg(pid, 9)
            os.wait4(pid, 0)
            return TIMED_OUT
        time.sleep(0.05)
    seconds = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return seconds, usage.ru_maxrss / 1024


def make_data(src: Path, total_mb: int) -> int:
    rng = random.Random(1)
    total = 0
    i = 0
    while total < total_mb * 1_000_000:
        size = rng.randint(1, 256) * 1_000_000
        d = src / f"d{i // 8}"
        d.mkdir(parents=True, exist_ok=True)
        with open(d / f"f{i}.bin", "wb") as f:
            f.write(os.urandom(size))
        total += size
        i += 1
    return total


def make_small(src: Path, n: int) -> None:
    d = src / "flat"
    d.mkdir(parents=True)
    for i in range(n):
        (d / f"file_{i:06d}.txt").write_bytes(b"%d\n" % i)


def run_set(
    work: Path, name: str, src: Path, size: str, peers: list[str], timeout: float | None
) -> dict[str, tuple[float, float]]:
    """{tool: (seconds, peak MB)} for create_iso and the `peers` on one file set."""
    home = work / f"home-{name}"
    home.mkdir()
    with Catalogue.open(home / "catalogue.sqlite", create=True) as cat:
        scan_source(cat, src)
    subprocess.run([*ODARCHIVE, "--home", str(home), "plan_iso", size, "--ecc", "off"], check=True, capture_output=True)
    subprocess.run(["sh", "-c", f"find '{src}' -type f -print0 | xargs -0 cat > /dev/null"], check=True)  # warm
    out = {"odarchive": timed([*ODARCHIVE, "--home", str(home), "create_iso", "all", "--out", str(work / f"o-{name}")])}
    for tool in peers:
        image = work / f"{tool}-{name}.iso"
        out[tool] = timed(["sh", "-c", f"{PEERS[tool]} -o '{image}' '{src}' && sync '{image}'"], timeout)
        image.unlink(missing_ok=True)
    return out


def make_tree(src: Path, n: int, per_dir: int = 1000) -> None:
    for i in range(n):
        d = src / f"d{i // per_dir:05d}"
        if i % per_dir == 0:
            d.mkdir(parents=True)
        (d / f"file_{i:07d}.txt").write_bytes(b"%d\n" % i)


def memory(work: Path, counts: list[int]) -> None:
    """plan_iso's and create_iso's peak RSS at each file count, and bytes per file between them."""
    rows = []
    for n in counts:
        src = work / f"tree{n}"
        make_tree(src, n)
        home = work / f"home{n}"
        home.mkdir()
        with Catalogue.open(home / "catalogue.sqlite", create=True) as cat:
            scan_source(cat, src)
        plan_sec, plan_peak = timed([*ODARCHIVE, "--home", str(home), "plan_iso", "bd-xl", "--ecc", "off"])
        sec, peak = timed([*ODARCHIVE, "--home", str(home), "create_iso", "all", "--out", str(work / f"o{n}")])
        rows.append((n, plan_peak, peak))
        print(
            f"{n:9d} files: plan_iso {plan_sec:7.1f} s, peak RSS {plan_peak:6.0f} MB;"
            f" create_iso {sec:7.1f} s, peak RSS {peak:6.0f} MB",
            flush=True,
        )
        shutil.rmtree(src)
        shutil.rmtree(work / f"o{n}")
    for (n0, p0, m0), (n1, p1, m1) in itertools.pairwise(rows):
        per_file = [(b - a) * 2**20 / (n1 - n0) for a, b in ((p0, p1), (m0, m1))]
        print(f"{n0}..{n1}: plan_iso {per_file[0]:.0f}, create_iso {per_file[1]:.0f} bytes per file")


def fill_ratio(work: Path, src: Path) -> float:
    with Catalogue.open(work / "fill.sqlite", create=True) as cat:
        scan_source(cat, src)
        discs = plan(cat, 100_000_000)
    full = discs[:-1] or discs
    return sum(d.used_bytes / d.capacity_bytes for d in full) / len(full)


def _timed_out(seconds: float) -> str:
    return "stopped after --peer-timeout" if seconds == TIMED_OUT[0] else ""


def _ran(tool: str, seconds: float) -> bool:
    """Whether a ratio to this tool's time is printed (a peer that finished)."""
    return tool != "odarchive" and seconds != TIMED_OUT[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-mb", type=int, default=1024)
    ap.add_argument("--small", type=int, default=100_000)
    ap.add_argument("--workdir")
    ap.add_argument("--memory", help="comma-separated file counts: plan_iso's and create_iso's peak memory only")
    ap.add_argument("--peers", default=",".join(PEERS), help=f"comma-separated, of {', '.join(PEERS)}; '' for none")
    ap.add_argument("--sets", default="data,small", help="comma-separated, of data, small: the file sets measured")
    ap.add_argument("--peer-timeout", type=float, help="stop a peer after this many seconds (reported, not timed)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_iso.", dir=args.workdir))
    try:
        if args.memory:
            memory(work, [int(n) for n in args.memory.split(",")])
            return
        sets = [name for name in args.sets.split(",") if name]
        peers = [p for p in args.peers.split(",") if p]
        if "data" in sets:
            data_src = work / "data"
            mb = make_data(data_src, args.data_mb) / 1e6
            data = run_set(work, "data", data_src, "bd", peers, args.peer_timeout)
            fill = fill_ratio(work, data_src)
            print(f"data set: {mb:.0f} MB in {len(list(data_src.rglob('*.bin')))} files")
            for tool, (sec, peak) in data.items():
                ratio = f"  odarchive throughput / {tool}: {sec / data['odarchive'][0]:.2f}x" if _ran(tool, sec) else ""
                print(f"  {tool:12s} {_timed_out(sec) or f'{mb / sec:7.1f} MB/s'}  peak {peak:6.0f} MB{ratio}")
            print(f"planner fill ratio (100 MB discs, all but the last): {fill:.4f}")
        if "small" in sets:
            small_src = work / "small"
            make_small(small_src, args.small)
            small = run_set(work, "small", small_src, "bd-xl", peers, args.peer_timeout)
            per = 100_000 / args.small
            print(f"small set: {args.small} files of a few bytes in one directory")
            for tool, (sec, peak) in small.items():
                ratio = f"  odarchive time / {tool}: {small['odarchive'][0] / sec:.2f}x" if _ran(tool, sec) else ""
                print(
                    f"  {tool:12s} {_timed_out(sec) or f'{sec * per:7.1f} s per 100,000 files'}  peak {peak:6.0f} MB{ratio}"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
