"""SHA-256 of a whole file, read in large blocks: one helper for images, restores and burns."""

from __future__ import annotations

import hashlib
import os

BLOCK = 4 << 20


def file_sha256(path: str | bytes | os.PathLike[str]) -> bytes:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            h.update(block)
    return h.digest()
