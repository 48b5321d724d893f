"""Running dvdisaster (Debian `dvdisaster` 0.79.5, headless) on image files.

`augment` adds RS02 error correction to a finished image in place; `repair` runs
`dvdisaster -i IMAGE -f` and says how many sectors it repaired and whether any are left.
dvdisaster prints progress with carriage returns and, while repairing, one line per
corrected byte: output is read as a stream and only its summary lines are kept.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from odarchive.ecc import rs02
from odarchive.errors import DiscError

TOOL = "dvdisaster"
_REPAIRED = re.compile(r"Repaired sectors: (\d+)")
_UNREPAIRED = re.compile(r"Unrepaired sectors: (\d+)")
_SUMMARY = ("Repaired sectors", "Unrepaired sectors", "Good!", "Erasure counts", "not", "No error", "can not",
            "Image file", "dvdisaster -", "*", "Opening", "method", "medium sectors", "error correction")


@dataclass(frozen=True)
class RepairResult:
    image: str
    repaired_sectors: int
    unrepaired_sectors: int
    summary: list[str]

    @property
    def ok(self) -> bool:
        return self.unrepaired_sectors == 0


def available() -> bool:
    return shutil.which(TOOL) is not None


def _run(args: list[str]) -> tuple[int, list[str]]:
    if not available():
        raise DiscError("dvdisaster is not installed: it adds and uses the discs' error correction",
                        hint="install the Debian package `dvdisaster` (scripts/install does), or set [archive] ecc = \"off\"")
    proc = subprocess.Popen([TOOL, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    kept: list[str] = []
    pending = b""
    while block := proc.stdout.read(1 << 16):
        lines = re.split(rb"[\r\n]", pending + block)
        pending = lines.pop()
        for raw in lines:
            line = raw.decode("utf-8", "replace").strip()
            if line and not line.startswith("->") and not line.endswith("%") and line.startswith(_SUMMARY):
                kept.append(line)
                del kept[:-40]
    return proc.wait(), kept


def augment(image: Path, roots: int) -> int:
    """Add RS02 ECC with `roots` roots to `image` (in place); returns the new size in bytes."""
    size = image.stat().st_size
    if size % rs02.SECTOR:
        raise DiscError(f"{image} is not a whole number of 2048-byte sectors ({size} bytes)")
    expected = rs02.augmented_sectors(size // rs02.SECTOR, roots) * rs02.SECTOR
    # "34 r", not "34r": dvdisaster 0.79.5 copies the digits without a terminating NUL before
    # atoi(), so a stray digit after them (seen in tests: 34r -> 170 roots) changes the roots;
    # the blank stops atoi. The size check below catches any other surprise.
    code, out = _run(["-i", str(image), "-mRS02", "-n", f"{roots} r", "-c"])
    got = image.stat().st_size
    if code != 0 or got != expected:
        raise DiscError(f"dvdisaster could not add error correction to {image} (exit {code}, {got} bytes,"
                        f" expected {expected}): {' / '.join(out[-3:])}",
                        hint="check the disc space in the output directory; or set [archive] ecc = \"off\"")
    return got


def repair(image: Path) -> RepairResult:
    """`dvdisaster -i IMAGE -f`: correct damaged sectors of an RS02-augmented image in place."""
    code, out = _run(["-i", str(image), "-f"])
    text = "\n".join(out)
    repaired = sum(int(m) for m in _REPAIRED.findall(text))
    left = _UNREPAIRED.search(text)
    unrepaired = int(left.group(1)) if left else 0
    if code != 0 and not left:
        raise DiscError(f"dvdisaster could not repair {image} (exit {code}): {' / '.join(out[-3:])}",
                        hint="does the image carry error correction? (`dvdisaster -i IMAGE -t`)")
    return RepairResult(str(image), repaired, unrepaired, out)
