"""Built-in sample data: a small, deterministic source tree for the demo and the tests.

It has what real archives have: nested directories, duplicate files (dedup), an empty file,
an empty directory, a symlink, a name that is not UTF-8, a long name, and a few larger files.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def _bytes(seed: str, size: int) -> bytes:
    """Deterministic pseudo-random bytes (SHA-256 in counter mode)."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def make_sample_tree(root: Path, *, large_bytes: int = 3_000_000) -> Path:
    """Create the sample tree under `root` (which must not exist yet) and return it."""
    root.mkdir(parents=True)
    years = {"2019": ["beach", "birthday"], "2020": ["garden"], "2021": ["mountains", "city", "snow"]}
    for year, events in years.items():
        for event in events:
            d = root / "photos" / year / event
            d.mkdir(parents=True)
            for i in range(6):
                (d / f"IMG_{i:04d}.jpg").write_bytes(_bytes(f"{year}/{event}/{i}", 20_000 + 997 * i))
    docs = root / "documents"
    docs.mkdir()
    (docs / "letter.txt").write_text("Dear archivist,\nthese files should outlast us.\n")
    (docs / "letter copy.txt").write_text("Dear archivist,\nthese files should outlast us.\n")  # duplicate
    (docs / "empty.txt").write_bytes(b"")
    (docs / ("x" * 200 + ".txt")).write_text("a long name\n")
    os.symlink("letter.txt", docs / "latest-letter")
    (root / "empty-directory").mkdir()
    (root / "video").mkdir()
    for i in range(2):
        (root / "video" / f"clip{i}.mp4").write_bytes(_bytes(f"clip{i}", large_bytes))
    os.makedirs(os.fsencode(root / "misc"), exist_ok=True)
    with open(os.fsencode(root / "misc") + b"/caf\xe9-latin1.txt", "wb") as f:  # not UTF-8
        f.write(b"written on an old system\n")
    return root
