#!/usr/bin/env python3
"""import_json benchmark: time and peak RSS of importing one generated seed catalogue.json.

Contenders, in one run, on the same file (page cache warm after the first read):
  1. `odarchive import_json` of this tree (streaming: ijson's C parser, written as read)
  2. `odarchive import_json` of another checkout given with --old-tree (e.g. the version that
     parsed the whole file with json.load), when given
  3. the floor of any whole-document parser: `python -c 'json.load(open(F))'` (parse only)
Each into a fresh home; peak RSS is the process's VmHWM.

Usage: .venv/bin/python benchmarks/bench_import.py [--names N] [--old-tree DIR] [--work DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
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
            body = {"size": i % 100_000, "mtime": 1_700_000_000.25 + i,
                    "filenames": {f"photos/{i // 1000:05d}/IMG_{i:08d}.jpg": None}}
            f.write(("," if i else "") + "\n  " + json.dumps(sha) + ": " + json.dumps(body))
        f.write("\n}}\n")


def measure(argv: list[str], pythonpath: Path | None) -> tuple[float, int]:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed: {proc.stderr[-2000:]}")
    return seconds, int(re.search(r"VMHWM (\d+)", proc.stderr).group(1))


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
        rows.append((label, *measure(["-c", RSS_WRAPPER, "--home", str(home), "import_json", str(data)], tree)))
    rows.append(("python json.load (parse only)", *measure(["-c", PARSE_ONLY, str(data)], None)))
    base_s, base_rss = rows[0][1], rows[0][2]
    print(f"{'contender':<48} {'seconds':>8} {'peak RSS':>10} {'time ratio':>10} {'RSS ratio':>9}")
    for label, seconds, rss in rows:
        print(f"{label:<48} {seconds:8.1f} {rss / 2**20:8.0f} MiB {seconds / base_s:10.2f} {rss / base_rss:9.2f}")


if __name__ == "__main__":
    main()
