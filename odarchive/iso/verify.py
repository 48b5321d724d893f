"""Verifying disc images: every file against the disc's SHA256SUMS and the catalogue.

Each file of the image is read once and hashed; the hash must match its SHA256SUMS line
and, when the home's catalogue knows the disc, the content (or piece) hash placed there.
Files missing from the image, files the image has but no list mentions, and unreadable
images are all problems; each is named. A truncated image is checked as far as it goes:
every file whose data is all there is hashed, and each file whose data lay in the missing
tail is named as unreadable. When an image with error correction fails, a repaired copy
(`odarchive.ecc.fallback`) is verified too and the report says whether the ECC restores it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from odarchive.catalogue import Catalogue, images
from odarchive.errors import DiscError
from odarchive.iso.reader import DiscImage
from odarchive.progress import NullReporter, Reporter


@dataclass
class Problem:
    path: str
    kind: str  # mismatch | missing | unlisted | unreadable | truncated
    detail: str


@dataclass
class ImageReport:
    image: str
    disc: int | None = None
    files_checked: int = 0
    bytes_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    ecc: dict[str, object] | None = None  # a failed image with ECC: what a repaired copy gave

    @property
    def ok(self) -> bool:
        return not self.problems


def _expected_from_catalogue(cat: Catalogue, disc: int) -> dict[str, str]:
    """UDF path (without leading /) -> expected hex hash, from the home's placements."""
    out = {}
    for path, piece, piece_sha, sha in images.expected_hashes(cat.conn, disc):
        expected = piece_sha if piece else sha
        if expected is not None:
            out[bytes(path).decode("utf-8").lstrip("/")] = bytes(expected).hex()
    return out


def verify_image(
    path: Path, cat: Catalogue | None = None, reporter: Reporter | None = None, scratch: Path | None = None
) -> ImageReport:
    """Check one image; with `scratch` (a directory for a temporary copy), a failed image
    that carries error correction is repaired in a copy and checked again."""
    report = _verify(path, cat, reporter or NullReporter())
    if not report.ok and scratch is not None:
        from odarchive.ecc.fallback import repaired_copy

        with repaired_copy(path, scratch) as repaired:
            if repaired is not None:
                copy, result = repaired
                again = _verify(copy, cat, NullReporter())
                report.ecc = {
                    "repairable": again.ok,
                    "repaired_sectors": result.repaired_sectors,
                    "unrepaired_sectors": result.unrepaired_sectors,
                    "problems_after_repair": [
                        vars(p) | {"path": p.path.replace(str(copy), str(path))} for p in again.problems
                    ],
                }
    return report


def _verify(path: Path, cat: Catalogue | None, reporter: Reporter) -> ImageReport:
    report = ImageReport(str(path))
    try:
        img = DiscImage(path)
    except DiscError as e:
        report.problems.append(Problem(str(path), "unreadable", e.message))
        return report
    with img:
        actual = path.stat().st_size
        if actual < img.declared_bytes():
            report.problems.append(
                Problem(str(path), "truncated", f"{actual} bytes, the volume declares {img.declared_bytes()}")
            )
        try:
            sums = dict((p, h) for h, p in img.sha256sums())
            head = img.catalogue().get("odarchive", {})
            disc = head.get("disc") if isinstance(head, dict) else None
            report.disc = disc if isinstance(disc, int) else None
            if cat is not None and head.get("archive_id") != cat.meta("archive_id"):
                cat = None  # a disc of another archive: only its own SHA256SUMS can be checked
        except (DiscError, ValueError, struct.error) as e:
            report.problems.append(Problem(str(path), "unreadable", str(e)))
            return report
        expected = _expected_from_catalogue(cat, report.disc) if cat is not None and report.disc is not None else {}
        present = {p.lstrip("/"): size for p, size in img.files()}
        reporter.start("verify", total_items=len(present), total_bytes=sum(present.values()))
        for rel, size in sorted(present.items()):
            if rel == "SHA256SUMS":
                continue
            want = [(w, src) for w, src in ((sums.get(rel), "SHA256SUMS"), (expected.get(rel), "catalogue")) if w]
            if not want:
                report.problems.append(
                    Problem(rel, "unlisted", "in the image but in neither SHA256SUMS nor the catalogue")
                )
                continue
            try:
                if img.missing_tail("/" + rel):
                    report.problems.append(
                        Problem(rel, "unreadable", "its data lies beyond the end of the truncated image")
                    )
                    continue
                got = img.sha256("/" + rel)
            except Exception as e:  # a damaged directory or extent: name the file, go on
                report.problems.append(Problem(rel, "unreadable", str(e)))
                continue
            for w, src in want:
                if got != w:
                    report.problems.append(Problem(rel, "mismatch", f"SHA-256 {got} but {src} says {w}"))
            report.files_checked += 1
            report.bytes_checked += size
            reporter.advance(items=1, nbytes=size)
        for rel in sorted((set(sums) | set(expected)) - set(present)):
            report.problems.append(Problem(rel, "missing", "listed but not in the image"))
        reporter.finish()
    return report
