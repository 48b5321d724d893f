#!/usr/bin/env python3
"""import_json benchmark: time and peak RSS of importing one generated seed catalogue.json.

Contenders, in one run, on the same file (page cache warm after the first read):
  1. `odarchive import_json` of this tree (streaming: ijson's C parser, written as read)
  2. `odarchive import_json` of another checkout given with --old-tree (e.g. the version that
     parsed the whole file with json.load), when given
  3. the floor of any whole-document parser: `python -c 'json.load(open(F))'` (parse only)
Each into a fresh home; peak RSS is the process's VmHWM; CPU seconds (user + system) are
the figure to compare on a shared machine.

Usage: .venv/bin/python benchmarks/bench_import.py [--names N] [--old-tree DIR] [--work DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RSS_WRAPPER = (
    "import re, sys; from odarchive.cli import main; rc = main(sys.argv[1:]);"
    "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1);"
    "print('VMHWM', int(hwm) * 1024, file=sys.stderr); sys.exit(rc)"
)
PARSE_ONLY = (
    "import json, re, sys; json.load(open(sys.argv[1]));"
    "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1);"
    "print('VMHWM', int(hwm) * 1024, file=sys.stderr)"
)


def make_file(path: Path, names: int) -> None:
    """`names` files, one content each, 1000 to a directory, in export_json's layout."""
    with path.open("w") as f:
        f.write('{"version": 1, "files": {')
        for i in range(names):
            sha = hashlib.sha256(i.to_bytes(8, "little")).hexdigest()
            body = {
                "size": i % 100_000,
                "mtime": 1_700_000_000.25 + i,
                "filenames": {f"photos/{i // 1000:05d}/IMG_{i:08d}.jpg": None},
            }
            f.write(("," if i else "") + "\n  " + json.dumps(sha) + ": " + json.dumps(body))
        f.write("\n}}\n")


def measure(argv: list[str], pythonpath: Path | None, cwd: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds user + system, peak RSS bytes) of one run. CPU time is what to
    compare on a shared machine: the wall time grows with everyone else's load."""
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    # not from the checkout's own directory: `python -c` puts the working directory first on sys.path
    proc = subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env, cwd=cwd)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed: {proc.stderr[-2000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return seconds, cpu, int(re.search(r"VMHWM (\d+)", proc.stderr).group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--names", type=int, default=2_000_000)
    ap.add_argument("--old-tree", type=Path, help="a checkout whose import_json to compare with")
    ap.add_argument("--work", type=Path, default=REPO / "benchmarks" / "work" / "import")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    data = args.work / f"catalogue-{args.names}.json"
    if not data.exists():
        make_file(data, args.names)
    print(f"file: {data.stat().st_size / 1e6:.0f} MB, {args.names} names")
    rows = []
    contenders = [("odarchive import_json (this tree)", REPO)]
    if args.old_tree:
        contenders.append((f"odarchive import_json ({args.old_tree})", args.old_tree))
    for label, tree in contenders:
        home = args.work / "home"
        shutil.rmtree(home, ignore_errors=True)
        rows.append(
            (label, *measure(["-c", RSS_WRAPPER, "--home", str(home), "import_json", str(data)], tree, args.work))
        )
    rows.append(("python json.load (parse only)", *measure(["-c", PARSE_ONLY, str(data)], None, args.work)))
    _, base_cpu, base_rss = rows[0][1:]
    print(f"{'contender':<48} {'wall s':>7} {'CPU s':>7} {'peak RSS':>10} {'CPU ratio':>9} {'RSS ratio':>9}")
    for label, seconds, cpu, rss in rows:
        print(
            f"{label:<48} {seconds:7.1f} {cpu:7.1f} {rss / 2**20:6.0f} MiB {cpu / base_cpu:9.2f} {rss / base_rss:9.2f}"
        )


if __name__ == "__main__":
    main()
