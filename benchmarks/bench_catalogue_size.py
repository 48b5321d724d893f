"""Catalogue bytes per file at a million files (issue 11's aim: at most 120), by table and index.

Builds the synthetic catalogue of tests/integration/test_catalogue_memory.py through the
catalogue's own writing API (8-byte names, 1,000 files per directory, every file its own
content) and counts the pages of every table and index with SQLite's dbstat, after a checkpoint.

    .venv/bin/python benchmarks/bench_catalogue_size.py [--files 1000000]

Takes about 2 minutes per million files on a quiet core.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from odarchive.catalogue import storage  # noqa: E402
from tests.lib.synthetic_catalogue import synthetic_catalogue  # noqa: E402


def breakdown(path: Path) -> list[tuple[str, int]]:
    """(table or index, bytes of its pages), largest first."""
    return list(storage.page_bytes_by_name(path).items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "catalogue.sqlite"
        start = time.monotonic()
        synthetic_catalogue(path, args.files, 1000, distinct=True)
        built = time.monotonic() - start
        rows = breakdown(path)
    total = sum(n for _, n in rows)
    print(f"{args.files:,} files: {total / args.files:.1f} bytes per file (built in {built:.0f} s)")
    for name, n in rows:
        if n / args.files >= 0.05:
            print(f"  {name:32} {n / args.files:6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
