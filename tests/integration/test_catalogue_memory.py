"""A synthetic catalogue of a million entries is read in bounded memory: reports, export and
walks stream from SQLite instead of building the tree in Python."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from odarchive.catalogue import Catalogue

REPO = Path(__file__).resolve().parents[2]
FILES = 1_000_000
PER_DIR = 1000


def build(home: Path) -> None:
    """A million files in a thousand directories, generated inside SQLite (fast)."""
    with Catalogue.open(home / "catalogue.sqlite", create=True) as cat, cat.transaction() as conn:
        root = conn.execute("INSERT INTO dirs (parent_id, name) VALUES (0, ?)", (b"big",)).lastrowid
        conn.execute("INSERT INTO sources (root_name, path, root_dir) VALUES (?, ?, ?)", (b"big", b"/nowhere", root))
        conn.execute("INSERT INTO snapshots (source_id, started_ns, finished_ns, state, phase) VALUES (1, 0, 1, 'complete', 'done')")
        conn.execute("INSERT INTO entries (source_id, dir_id, name, kind, first_snap, last_snap, size, mtime_ns, mode)"
                     " VALUES (1, 0, ?, 'd', 1, 1, 0, 0, 16877)", (b"big",))
        series = f"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {{count}})"
        conn.execute(series.format(count=FILES // PER_DIR) +
                     " INSERT INTO dirs (id, parent_id, name) SELECT 100 + i, ?, CAST(printf('d%04d', i) AS BLOB) FROM n",
                     (root,))
        conn.execute(series.format(count=FILES // PER_DIR) +
                     " INSERT INTO entries (source_id, dir_id, name, kind, first_snap, last_snap, size, mtime_ns, mode)"
                     " SELECT 1, ?, CAST(printf('d%04d', i) AS BLOB), 'd', 1, 1, 0, 0, 16877 FROM n", (root,))
        conn.execute(series.format(count=FILES) +
                     " INSERT INTO contents (id, sha256, size) SELECT i + 1, randomblob(32), i % 5000 FROM n")
        conn.execute(series.format(count=FILES) +
                     " INSERT INTO entries (source_id, dir_id, name, kind, first_snap, last_snap, size, mtime_ns, mode,"
                     " content_id) SELECT 1, 100 + i / ?, CAST(printf('file%06d.jpg', i) AS BLOB), 'f', 1, 1, i % 5000,"
                     " 0, 33188, i + 1 FROM n", (PER_DIR,))


def peak_rss_mb(*argv: str) -> float:
    # VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec and would count the forked parent
    code = (
        "import re, sys; from odarchive.cli import main; rc = main(sys.argv[1:]);"
        "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1);"
        "print(int(hwm) / 1024, file=sys.stderr); sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=300)
    assert proc.returncode == 0, proc.stderr
    return float(proc.stderr.strip().splitlines()[-1])


def test_million_entries_read_in_bounded_memory(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    build(home)
    baseline = peak_rss_mb("--home", str(home), "status")
    info_rss = peak_rss_mb("--home", str(home), "get_info", "--json")
    export_rss = peak_rss_mb("--home", str(home), "export_json", str(tmp_path / "out.json"))
    assert sum(1 for _ in open(tmp_path / "out.json")) == FILES + 2
    # SQLite's page cache is capped at 64 MiB; Python's own share must not grow with the tree
    assert info_rss - baseline < 100, (baseline, info_rss)
    assert export_rss - baseline < 100, (baseline, export_rss)
    assert info_rss < 150 and export_rss < 150, (info_rss, export_rss)
