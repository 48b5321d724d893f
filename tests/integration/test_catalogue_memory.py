"""A synthetic catalogue of a million entries is small (bytes per file, measured with dbstat)
and read in bounded memory: reports, export and walks stream from SQLite instead of building
the tree in Python."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from odarchive.catalogue import storage
from tests.lib.synthetic_catalogue import synthetic_catalogue

REPO = Path(__file__).resolve().parents[2]
FILES = 1_000_000
PER_DIR = 1000


def build(home: Path) -> None:
    """A million files in a thousand directories, each its own content, through the catalogue's API."""
    synthetic_catalogue(home / "catalogue.sqlite", FILES, PER_DIR, distinct=True)


def catalogue_bytes_per_file(path: Path) -> float:
    """Pages of every table and index (`dbstat`), per file."""
    return storage.page_bytes(path) / FILES


def peak_rss_mb(*argv: str) -> float:
    # VmHWM, not ru_maxrss: on Linux ru_maxrss survives exec and would count the forked parent
    code = (
        "import re, sys; from odarchive.cli import main; rc = main(sys.argv[1:]);"
        "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1);"
        "print(int(hwm) / 1024, file=sys.stderr); sys.exit(rc)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return float(proc.stderr.strip().splitlines()[-1])


# The aim. Schema 7 measures 118.7 (8-byte names, every file its own content; schema 6:
# 141.7): BENCHMARKS.md, "Catalogue size, schema 7", has where the bytes go.
MAX_BYTES_PER_FILE = 120


@pytest.mark.slow
def test_million_entries_are_small_and_read_in_bounded_memory(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    build(home)
    per_file = catalogue_bytes_per_file(home / "catalogue.sqlite")
    assert per_file <= MAX_BYTES_PER_FILE, per_file
    baseline = peak_rss_mb("--home", str(home), "status")
    info_rss = peak_rss_mb("--home", str(home), "get_info", "--json")
    export_rss = peak_rss_mb("--home", str(home), "export_json", str(tmp_path / "out.json"))
    assert sum(1 for _ in open(tmp_path / "out.json")) == FILES + 2
    # SQLite's page cache is capped at 64 MiB; Python's own share must not grow with the tree
    assert info_rss - baseline < 100, (baseline, info_rss)
    assert export_rss - baseline < 100, (baseline, export_rss)
    assert info_rss < 150 and export_rss < 150, (info_rss, export_rss)
