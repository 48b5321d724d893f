"""Reading through the ECC when a read fails verification: a repaired copy of an image.

`repaired_copy(image, scratch)` copies an image that carries error correction into a
temporary directory under `scratch` (the home's, or the restore target's), repairs the copy
with dvdisaster and yields it, so a reader can try again there; the image itself is never
changed (that is `odarchive repair`'s job) and the copy is removed afterwards.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from odarchive.ecc import formats, tool
from odarchive.errors import DiscError


@contextmanager
def repaired_copy(image: Path, scratch: Path) -> Iterator[tuple[Path, tool.RepairResult] | None]:
    """(the repaired copy, what dvdisaster did), or None when the image has no ECC."""
    if not tool.available() or not formats.has_ecc(image):
        yield None
        return
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".ecc-", dir=scratch) as tmp:
        copy = Path(tmp) / image.name
        shutil.copyfile(image, copy)
        try:
            result = tool.repair(copy)
        except DiscError:  # what lies behind the volume is no error correction dvdisaster knows
            result = None
        yield (copy, result) if result is not None else None
