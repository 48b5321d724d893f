"""The three manifest files of one build, spooled to unnamed temporary files beside the image.

catalogue.json and SHA256SUMS grow with the file count (about 500 and 100 bytes a file);
rendering them line by line into a temporary file (`Spooled`), hashing as they go, keeps a
build's memory flat, and the image writer copies them from the page cache.
README.md is a few kB and stays in memory. The optional sections of catalogue.json (up to
the disc's reserve, 0.2% of the disc: 200 MB on a BD-XL) are spooled the same way.
"""

from __future__ import annotations

import functools
import hashlib
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from odarchive.catalogue import Catalogue, images
from odarchive.ecc.post import planned_ecc
from odarchive.iso import manifest, sizing
from odarchive.iso.extras import optional_sections
from odarchive.iso.layout import DiscLayout

READ = 1 << 20
FLUSH = 1 << 20
PREFIX = ".odarchive-manifest-"


class Spooled:
    """Text written once to a temporary file: its size and SHA-256, readable from the start."""

    def __init__(self, out_dir: Path) -> None:
        self.file = _temporary(out_dir)
        self.size = 0
        self._sha = hashlib.sha256()
        self._buf: list[bytes] = []
        self._gathered = 0

    def write(self, pieces: Iterable[str]) -> None:
        for piece in pieces:
            self.add(piece)
        self.flush()

    def add(self, piece: str) -> None:
        """Append `piece` (gathered, written 1 MiB at a time; `flush` writes the rest)."""
        data = piece.encode()
        self._buf.append(data)
        self._gathered += len(data)
        if self._gathered >= FLUSH:
            self.flush()

    def flush(self) -> None:
        self._put(b"".join(self._buf))
        self._buf, self._gathered = [], 0

    def _put(self, data: bytes) -> None:
        self.file.write(data)
        self._sha.update(data)
        self.size += len(data)

    def hexdigest(self) -> str:
        return self._sha.hexdigest()

    def chunks(self) -> Iterator[bytes]:
        self.file.flush()
        self.file.seek(0)
        while data := self.file.read(READ):
            yield data

    def close(self) -> None:
        self.file.close()


class Manifests:
    """README.md, catalogue.json and SHA256SUMS of one disc; `sizes` are set on the layout."""

    def __init__(self, cat: Catalogue, layout: DiscLayout, info: manifest.DiscInfo, used: int, out_dir: Path) -> None:
        n_discs = images.disc_count(cat.conn)
        self.readme = manifest.readme(
            info, layout.n_files, layout.data_bytes, n_discs, planned_ecc(cat, info.disc)
        ).encode()
        self.catalogue = Spooled(out_dir)
        self.data_sums = Spooled(out_dir)
        try:
            spool = functools.partial(_temporary, out_dir)
            self.catalogue.write(manifest.catalogue_json_pieces(layout, info, spool, self.data_sums.add))
            self.data_sums.flush()
            head_len = sum(len(manifest.sha256sums_line(h, p).encode()) for h, p in manifest.manifest_extra())
            layout.set_manifest_sizes(
                {"README.md": len(self.readme), "catalogue.json": 0, "SHA256SUMS": head_len + self.data_sums.size}
            )
            self.blocks_without_catalogue = sizing.image_blocks(layout)
            free = (used // sizing.BLOCK - self.blocks_without_catalogue) * sizing.BLOCK - self.catalogue.size
            room = manifest.sections_room(free)
            sections = optional_sections(cat, layout, room, spool)
            try:
                self.catalogue.write(manifest.catalogue_json_end(sections))
            finally:
                for section in sections:
                    section.close()
            self.sums_head = (
                manifest.sha256sums_line(hashlib.sha256(self.readme).hexdigest(), "README.md")
                + manifest.sha256sums_line(self.catalogue.hexdigest(), "catalogue.json")
            ).encode()
        except BaseException:
            self.close()
            raise
        assert len(self.sums_head) == head_len
        layout.set_manifest_sizes(
            {
                "README.md": len(self.readme),
                "catalogue.json": self.catalogue.size,
                "SHA256SUMS": head_len + self.data_sums.size,
            }
        )

    def model_blocks(self) -> int:
        """The size model's block count of the whole image (the catalogue.json's data added)."""
        return self.blocks_without_catalogue + sizing.data_blocks(self.catalogue.size)

    def contents(self) -> dict[str, Iterable[bytes]]:
        """Each file's bytes, in pieces, for the writer (read once)."""
        return {
            "README.md": [self.readme],
            "catalogue.json": self.catalogue.chunks(),
            "SHA256SUMS": _chain(self.sums_head, self.data_sums.chunks()),
        }

    def close(self) -> None:
        self.catalogue.close()
        self.data_sums.close()


def _temporary(out_dir: Path) -> BinaryIO:
    return tempfile.TemporaryFile(dir=out_dir, prefix=PREFIX)


def _chain(head: bytes, rest: Iterable[bytes]) -> Iterator[bytes]:
    yield head
    yield from rest
