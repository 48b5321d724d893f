"""Running dvdisaster (Debian `dvdisaster` 0.79.5, headless) on image files.

`augment` adds error correction to a finished image in place: RS03 (new discs: the ECC file
`dvdisaster -mRS03 -o file -x 1 -c` makes, appended behind the file system) or RS02
(`-mRS02 -c`, an augmented image; discs planned before RS03). The RS03 encoder runs on one
thread: with two (`-x 2`), dvdisaster 0.79.5 wrote a wrong ECC file in about one run in ten
under CPU contention (small images: the last sector of every ECC layer differed; seen in
tests, 2026-12-02), which `dvdisaster -t` does not notice and a repair turns into a wrong
image. `repair` repairs either format
in place and says how many sectors it repaired and whether any are left: RS02 with
`dvdisaster -i IMAGE -f`; RS03 by moving the ECC file out beside the image, running
`dvdisaster -i IMAGE -e ECC -f` until a pass repairs nothing more (a codeword whose CRC
sector was damaged is repaired in the pass after the one that repaired the CRC sector), and
appending the ECC file again. dvdisaster prints progress with carriage returns and, while
repairing, one line per corrected byte: output is read as a stream (those lines dropped by
grep) and only its summary lines are kept.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from odarchive.ecc import formats, rs03
from odarchive.errors import DiscError

TOOL = "dvdisaster"
_REPAIRED = re.compile(r"Repaired sectors: (\d+)")
_UNREPAIRED = re.compile(r"Unrepaired sectors: (\d+)")
_GOOD = ("Good!", "No error")
_SUMMARY = (
    "Repaired sectors",
    "Unrepaired sectors",
    "Good!",
    "Erasure counts",
    "not",
    "No error",
    "can not",
    "Image file",
    "dvdisaster -",
    "*",
    "Opening",
    "method",
    "medium sectors",
    "error correction",
)


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
        raise DiscError(
            "dvdisaster is not installed: it adds and uses the discs' error correction",
            hint='install the Debian package `dvdisaster` (scripts/install does), or set [archive] ecc = "off"',
        )
    tool = subprocess.Popen([TOOL, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    # A repair prints one "-> ..." line per corrected byte (2048 a damaged sector): grep drops
    # them at C speed, so Python only reads the summary and the progress lines.
    lines_of = subprocess.Popen(["grep", "-a", "-v", "-e", "^->"], stdin=tool.stdout, stdout=subprocess.PIPE)
    assert tool.stdout is not None and lines_of.stdout is not None
    tool.stdout.close()
    kept: list[str] = []
    pending = b""
    while block := lines_of.stdout.read(1 << 16):
        lines = re.split(rb"[\r\n]", pending + block)
        pending = lines.pop()
        for raw in lines:
            line = raw.decode("utf-8", "replace").strip()
            if line and not line.endswith("%") and line.startswith(_SUMMARY):
                kept.append(line)
                del kept[:-40]
    lines_of.wait()
    return tool.wait(), kept


def threads() -> int:
    """Decoder threads for an RS03 repair: every core (dvdisaster caps it itself)."""
    return max(1, min(os.cpu_count() or 1, 32))


ENCODER_THREADS = 1  # not more: dvdisaster 0.79.5's threaded RS03 encoder races (module docstring)


def rs03_encode_args(image: Path, ecc: Path, roots: int) -> list[str]:
    """dvdisaster's arguments that write `image`'s RS03 error correction file `ecc`."""
    args = ["-i", str(image), "-mRS03", "-o", "file", "-n", str(roots), "-x", str(ENCODER_THREADS)]
    return [*args, "--encoding-io-strategy", "mmap", "-e", str(ecc), "-c"]


def rs02_augment_args(image: Path, roots: int) -> list[str]:
    """dvdisaster's arguments that augment `image` with RS02 error correction, in place.

    "34 r", not "34r": dvdisaster 0.79.5 copies the digits without a terminating NUL before
    atoi(), so a stray digit after them (seen in tests: 34r -> 170 roots) changes the roots;
    the blank stops atoi. `augment`'s size check catches any other surprise."""
    return ["-i", str(image), "-mRS02", "-n", f"{roots} r", "-c"]


def augment(image: Path, roots: int, fmt: str = formats.NEW, digest: Any = None) -> int:
    """Add `fmt` error correction with `roots` roots to `image` (in place); the new size in bytes.
    With `digest` (the hashlib object of `image` as it was), RS03's appended ECC file is hashed
    into it on the way: it then holds the SHA-256 of the whole new image without reading the
    image again. (RS02 rewrites the image: `digest` is not touched.)"""
    size = image.stat().st_size
    if size % formats.SECTOR:
        raise DiscError(f"{image} is not a whole number of 2048-byte sectors ({size} bytes)")
    expected = formats.augmented_sectors(fmt, size // formats.SECTOR, roots) * formats.SECTOR
    if fmt == formats.RS03:
        ecc = _ecc_beside(image)
        try:
            code, out = _run(rs03_encode_args(image, ecc, roots))
            if code == 0 and ecc.is_file():
                rs03.join(image, ecc, digest)
        finally:
            ecc.unlink(missing_ok=True)
    else:
        code, out = _run(rs02_augment_args(image, roots))
    got = image.stat().st_size
    if code != 0 or got != expected:
        raise DiscError(
            f"dvdisaster could not add error correction to {image} (exit {code}, {got} bytes,"
            f" expected {expected}): {' / '.join(out[-3:])}",
            hint='check the disc space in the output directory; or set [archive] ecc = "off"',
        )
    return got


def repair(image: Path) -> RepairResult:
    """Correct the damaged sectors of an image that carries error correction, in place."""
    from odarchive.iso.reader import declared_size

    data = declared_size(image) // formats.SECTOR
    ecc = _ecc_beside(image)
    if ecc.is_file() and image.stat().st_size == data * formats.SECTOR:
        rs03.join(image, ecc)  # an earlier repair was stopped while the ECC file was beside the image
    fmt = formats.image_format(image)
    if fmt is None:
        raise DiscError(
            f"{image} carries no error correction behind its file system",
            hint="only images written with [archive] ecc on can be repaired",
        )
    if fmt == formats.RS02:
        return _fix(image, ["-i", str(image), "-f"])
    rs03.split(image, data, ecc)
    try:
        total: RepairResult | None = None
        for _ in range(MAX_PASSES):
            result = _fix(image, ["-i", str(image), "-e", str(ecc), "-x", str(threads()), "-f"])
            total = (
                result
                if total is None
                else RepairResult(
                    str(image),
                    total.repaired_sectors + result.repaired_sectors,
                    result.unrepaired_sectors,
                    result.summary,
                )
            )
            if result.ok or not result.repaired_sectors:
                break
        assert total is not None
        return total
    finally:
        rs03.join(image, ecc)


def _ecc_beside(image: Path) -> Path:
    return image.with_name(f".{image.name}.ecc")


MAX_PASSES = 4


def _fix(image: Path, args: list[str]) -> RepairResult:
    code, out = _run(args)
    text = "\n".join(out)
    repaired = sum(int(m) for m in _REPAIRED.findall(text))
    left = _UNREPAIRED.search(text)
    unrepaired = int(left.group(1)) if left else 0
    if code != 0 and not left and not any(line.startswith(_GOOD) for line in out):
        raise DiscError(
            f"dvdisaster could not repair {image} (exit {code}): {' / '.join(out[-3:])}",
            hint="does the image carry error correction? (`dvdisaster -i IMAGE -t`)",
        )
    return RepairResult(str(image), repaired, unrepaired, out)
