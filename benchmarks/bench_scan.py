#!/usr/bin/env python3
"""Scan benchmark: odarchive create_db against find + sha256sum, on generated trees.

Trees (issue 11): `tiny` = 100,000 files of 0-4 kB (100 to a directory); `small+large` =
20,000 such files and one 256 MiB file. Same run, same tree, warm page cache, each contender
--repeat times alternating, best kept:
  1. scan+hash: `odarchive create_db` (fresh home; and with `--jobs 1`: one hashing thread
     for large files) vs `find SRC -type f -print0 | xargs -0 -P2 sha256sum`
  2. unchanged re-scan: `odarchive create_db` again vs `find SRC -printf '%s %T@ %p\\n'`
Also reports catalogue bytes per file (pages of every table and index, from SQLite's dbstat)
and the scan's peak RSS (VmHWM), and the floor the catalogue sets: the rows a first scan of the
tree writes (a directory node per directory, an entry and a content per file), inserted alone
through the scan's own `ScanRows` calls in batches of 256, with no walking or hashing
(`rows_only_s`, best of --repeat; hashes made up, distinct). With --million, a tree of one million small files measures peak
RSS and bytes per file at that scale.

Usage: .venv/bin/python benchmarks/bench_scan.py [--trees tiny,small+large] [--repeat N] [--million] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable

RSS_WRAPPER = (
    "import re, sys; from odarchive.cli import main; rc = main(sys.argv[1:]);"
    "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1);"
    "print('VMHWM', int(hwm) * 1024, file=sys.stderr); sys.exit(rc)"
)


def make_tree(root: Path, small: int, large: int, large_mb: int) -> tuple[int, int]:
    """`small` files of 0-4 kB in 100-file directories plus `large` random files of large_mb."""
    if root.exists():
        shutil.rmtree(root)
    total = 0
    rnd = os.urandom(1 << 20)
    for i in range(small):
        d = root / f"d{i // 2000:03d}" / f"s{(i // 100) % 20:02d}"
        if i % 100 == 0:
            d.mkdir(parents=True, exist_ok=True)
        size = (i * 7919) % 4097
        off = (i * 104729) % (len(rnd) - size - 8)
        (d / f"f{i:06d}.dat").write_bytes((i.to_bytes(8, "little") + rnd[off : off + size])[:size])
        total += size
    if large:
        (root / "large").mkdir(parents=True, exist_ok=True)
    for i in range(large):
        with open(root / "large" / f"big{i}.bin", "wb") as f:
            for _ in range(large_mb):
                f.write(os.urandom(1 << 20))
        total += large_mb << 20
    return small + large, total


TREES = {"tiny": (100_000, 0, 0), "small+large": (20_000, 1, 256)}


def timed(cmd: list[str] | str, shell: bool = False, env: dict | None = None) -> tuple[float, str]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, shell=shell, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"failed: {cmd}\n{proc.stderr[-2000:]}")
    return elapsed, proc.stderr


def odarchive(home: Path, *args: str) -> tuple[float, int]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    elapsed, err = timed([PY, "-c", RSS_WRAPPER, "--home", str(home), *args], env=env)
    rss = int(re.search(r"VMHWM (\d+)", err).group(1))
    return elapsed, rss


def catalogue_bytes(home: Path) -> int:
    """Bytes of every table's and index's pages (dbstat), after a checkpoint."""
    from odarchive.catalogue import storage

    return storage.page_bytes(home / "catalogue.sqlite")


def catalogue_breakdown(home: Path, files: int) -> dict[str, float]:
    """Bytes per file of each table and index (dbstat), largest first."""
    from odarchive.catalogue import storage

    rows = storage.page_bytes_by_name(home / "catalogue.sqlite")
    return {name: round(n / files, 1) for name, n in rows.items() if n / files >= 0.5}


def rows_only(src: Path, home: Path) -> float:
    """Seconds to insert the rows a first scan of `src` writes, alone (see the docstring)."""
    import hashlib

    from odarchive.catalogue import Catalogue, snapshots
    from odarchive.catalogue.owners import OwnerIds
    from odarchive.catalogue.scanning import ScanRows

    listing: list[tuple[bytes, list[tuple[bytes, os.stat_result]]]] = []
    for d, _dirs, names in os.walk(os.fsencode(src)):
        listing.append((os.path.relpath(d, os.fsencode(src)), [(n, os.lstat(os.path.join(d, n))) for n in names]))
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    with Catalogue.open(home / "catalogue.sqlite", create=True) as cat:
        source = snapshots.ensure_source(cat, b"src", os.fsencode(src))
        snap, _ = snapshots.running_or_new(cat, source.id)
        rows = ScanRows(cat.conn, source.id, snap, None)
        owner = OwnerIds(cat.conn).id_for(os.getuid(), os.getgid())
        serial = 0
        t = time.perf_counter()
        rows.begin()
        nodes = {b".": source.root_dir}
        for rel, files in listing:
            if rel != b".":
                nodes[rel] = rows.new_dir(nodes[os.path.dirname(rel) or b"."], os.path.basename(rel))
            node = nodes[rel]
            for i in range(0, len(files), 256):
                batch = files[i : i + 256]
                metas = [
                    (st.st_size, st.st_mtime_ns, st.st_mode, st.st_ctime_ns - st.st_mtime_ns, owner, None, None)
                    for _, st in batch
                ]
                hashes = [(hashlib.sha256(b"%d" % (serial + j)).digest(), m[0]) for j, m in enumerate(metas)]
                serial += len(batch)
                rows.insert_hashed([(node, name, m, None) for (name, _), m in zip(batch, metas)], hashes)
        rows.commit()
        return time.perf_counter() - t


def bench_tree(src: Path, work: Path, files: int, nbytes: int, label: str, repeat: int) -> dict:
    """Each contender `repeat` times, alternating, best time kept (the machine may be shared)."""
    home = work / f"home-{label}"
    # warm the page cache for everyone
    timed(f"find {src} -type f -print0 | xargs -0 cat > /dev/null", shell=True)
    best: dict[str, float] = {}
    rss: dict[str, int] = {}

    def keep(name: str, seconds: float, peak: int = 0) -> None:
        best[name] = min(best.get(name, seconds), seconds)
        rss[name] = max(rss.get(name, 0), peak)

    for _ in range(repeat):
        shutil.rmtree(home, ignore_errors=True)
        keep("find_sha256sum", timed(f"find {src} -type f -print0 | xargs -0 -P2 sha256sum > /dev/null", shell=True)[0])
        keep("create_db", *odarchive(home, "create_db", str(src)))
        shutil.rmtree(home)
        keep("create_db_jobs1", *odarchive(home, "create_db", "--jobs", "1", str(src)))  # one hashing thread
        keep("find_printf", timed(f"find {src} -printf '%s %T@ %p\\n' > /dev/null", shell=True)[0])
        keep("rescan", *odarchive(home, "create_db", str(src)))
        keep("rows_only", rows_only(src, work / f"home-{label}-rows"))
    cat_bytes = catalogue_bytes(home)
    return {
        "tree": label,
        "files": files,
        "bytes": nbytes,
        "repeat": repeat,
        "find_sha256sum_s": round(best["find_sha256sum"], 3),
        "create_db_s": round(best["create_db"], 3),
        "scan_speedup_vs_find_sha256sum": round(best["find_sha256sum"] / best["create_db"], 2),
        "create_db_jobs1_s": round(best["create_db_jobs1"], 3),
        "jobs1_speedup_vs_find_sha256sum": round(best["find_sha256sum"] / best["create_db_jobs1"], 2),
        "find_printf_s": round(best["find_printf"], 3),
        "rescan_s": round(best["rescan"], 3),
        "rescan_speed_vs_find_printf": round(best["find_printf"] / best["rescan"], 2),
        "rows_only_s": round(best["rows_only"], 3),
        "rows_only_vs_find_sha256sum": round(best["find_sha256sum"] / best["rows_only"], 2),
        "catalogue_bytes_per_file": round(cat_bytes / files, 1),
        "catalogue_breakdown": catalogue_breakdown(home, files),
        "scan_peak_rss_mb": round(rss["create_db"] / 2**20, 1),
        "rescan_peak_rss_mb": round(rss["rescan"] / 2**20, 1),
        "scan_MB_per_s": round(nbytes / best["create_db"] / 1e6, 1),
    }


def million(work: Path) -> dict:
    src = work / "million"
    if not (src / "done").exists():
        shutil.rmtree(src, ignore_errors=True)
        for i in range(1000):
            d = src / f"d{i:03d}"
            d.mkdir(parents=True)
            for j in range(1000):
                (d / f"file{j:04d}.txt").write_bytes(b"%d/%d\n" % (i, j))
        (src / "done").write_bytes(b"")
    home = work / "home-million"
    shutil.rmtree(home, ignore_errors=True)
    scan, rss = odarchive(home, "create_db", str(src))
    rescan, rescan_rss = odarchive(home, "create_db", str(src))
    find_printf, _ = timed(f"find {src} -printf '%s %T@ %p\\n' > /dev/null", shell=True)
    return {
        "tree": "million",
        "files": 1_000_001,
        "create_db_s": round(scan, 1),
        "files_per_s": round(1_000_001 / scan),
        "scan_peak_rss_mb": round(rss / 2**20, 1),
        "rescan_s": round(rescan, 1),
        "rescan_peak_rss_mb": round(rescan_rss / 2**20, 1),
        "find_printf_s": round(find_printf, 2),
        "rescan_speed_vs_find_printf": round(find_printf / rescan, 2),
        "catalogue_bytes_per_file": round(catalogue_bytes(home) / 1_000_001, 1),
        "catalogue_breakdown": catalogue_breakdown(home, 1_000_001),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trees", default="tiny,small+large", help=f"comma-separated, of {', '.join(TREES)}")
    ap.add_argument("--million", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="runs per contender; the best is kept")
    ap.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    results = []
    for label in [t for t in args.trees.split(",") if t]:
        src = args.work / f"tree-{label}"
        files, nbytes = make_tree(src, *TREES[label])
        results.append(bench_tree(src, args.work, files, nbytes, label, args.repeat))
    if args.million:
        results.append(million(args.work))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
