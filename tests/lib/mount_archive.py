"""A small archive to mount in tests: a source tree, its catalogue, and disc images for it.

`build_archive(tmp)` scans a tree full of awkward cases (empty files and directories,
symlinks, a name that is not UTF-8, modes, duplicate contents, a large chunked file, a split
content spanning two discs, a piece in two extents) with the real `create_db`, then places
every content on `discs` synthetic disc images with the records the discs code writes
(discs, placements, extents, chunk_hashes), so the mount has something to fetch from without
building real ISO images. A second snapshot changes one file, so `/.snapshots/1` differs from
the top level.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from odarchive.catalogue import Catalogue, chunks, plans
from odarchive.catalogue import images as images_rows
from odarchive.cli import main
from odarchive.hashing import file_sha256
from tests.lib.trees import discs_holding

CHUNK = 64 * 1024
SECTOR = 2048
SYSTEM_AREA = 16 * SECTOR
BAD_NAME = b"caf\xe9-latin1.txt"


@dataclass
class Archive:
    home: Path
    src: Path
    images: Path
    discs: int
    old_snapshot: int  # the first snapshot (shown under /.snapshots/<id>)
    changed: bytes  # archived path of the file that differs between the snapshots
    old_bytes: bytes  # that file's content in the first snapshot

    @property
    def catalogue(self) -> Path:
        return self.home / "catalogue.sqlite"

    def disc_of(self, rel: bytes) -> set[int]:
        """The discs holding the file at source-relative path `rel`."""
        return discs_holding(self.catalogue, hashlib.sha256((self.src / os.fsdecode(rel)).read_bytes()).digest())


def _pattern(seed: int, size: int) -> bytes:
    block = hashlib.sha256(str(seed).encode()).digest() * 64  # 2 KiB
    return (block * (size // len(block) + 1))[:size]


def make_tree(src: Path, files: int = 24) -> None:
    """The source tree (about 700 kB): every case the mount must show faithfully."""
    (src / "docs" / "deep" / "deeper").mkdir(parents=True)
    (src / "empty-dir").mkdir()
    (src / "photos").mkdir()
    (src / "empty.txt").write_bytes(b"")
    (src / "hello.txt").write_bytes(b"hello, archive\n")
    (src / "docs" / "copy-of-hello.txt").write_bytes(b"hello, archive\n")  # dedup: same content
    (src / "docs" / "deep" / "deeper" / "leaf.bin").write_bytes(_pattern(1, SECTOR))
    (src / "private.txt").write_bytes(b"secret\n")
    os.chmod(src / "private.txt", 0o600)
    (src / "run.sh").write_bytes(b"#!/bin/sh\necho hi\n")
    os.chmod(src / "run.sh", 0o755)
    os.symlink("hello.txt", src / "link-to-hello")
    os.symlink("no/such/target", src / "dangling")
    with open(os.path.join(os.fsencode(src), BAD_NAME), "wb") as f:
        f.write(b"latin-1 name\n")
    (src / "big.bin").write_bytes(_pattern(2, 5 * CHUNK + 1234))  # chunked, split over two discs
    for i in range(files):
        (src / "photos" / f"img{i:03d}.jpg").write_bytes(_pattern(100 + i, 1000 + 3037 * i))
    os.setxattr(src / "photos" / "img003.jpg", "user.comment", b"kept as archived")
    os.utime(src / "run.sh", ns=(1_500_000_000_000_000_000, 1_500_000_000_123_456_789))


def place_on_discs(catalogue: Path, images: Path, discs: int, chunk: int = CHUNK, split_largest: bool = True) -> None:
    """Put every content not on a disc yet on new synthetic disc images (numbered after the
    existing ones), recording discs/placements/extents/chunks.

    Contents go round-robin over the discs; `chunk` becomes the catalogue's chunk size. With
    `split_largest`, the largest content is split into two pieces on two discs, and its second
    piece is stored in two extents with a gap between them.
    """
    images.mkdir(parents=True, exist_ok=True)
    data_by_sha = _data_by_sha(catalogue)
    with Catalogue.open(catalogue) as cat, cat.transaction() as conn:
        cat.set_meta("chunk_size", str(chunk))
        unplaced = plans.unplaced_contents(conn)
        largest = max(unplaced, key=lambda c: c[2])[0] if split_largest else None
        first = plans.next_disc_id(conn)
        files = [open(images / f"disc{first + d}.iso", "wb") for d in range(discs)]
        pos = [SYSTEM_AREA] * discs
        placed: list[list[tuple]] = [[] for _ in range(discs)]  # per disc: (content, piece, offset, length, ...)
        extents: list[tuple[int, int, int, int, int]] = []  # (content, piece, seq, image offset, length)
        chunk_rows: list[tuple[int, int, bytes]] = []

        def put(disc: int, data: bytes) -> int:
            off = pos[disc]
            files[disc].seek(off)
            files[disc].write(data)
            pos[disc] = off + (len(data) + SECTOR - 1) // SECTOR * SECTOR
            return off

        for n, (cid, sha, size) in enumerate(unplaced):
            data = data_by_sha[sha]
            if cid == largest:
                half = size // 2
                d1, d2 = n % discs, (n + 1) % discs
                placed[d1].append((cid, 1, 0, half, None, None, None))
                extents.append((cid, 1, 0, put(d1, data[:half]), half))
                placed[d2].append((cid, 2, half, size - half, None, None, None))
                quarter = (size - half) // 2
                extents.append((cid, 2, 0, put(d2, data[half : half + quarter]), quarter))
                put(d2, b"\0" * SECTOR)  # a gap between the two extents
                extents.append((cid, 2, 1, put(d2, data[half + quarter :]), size - half - quarter))
            else:
                disc = n % discs
                placed[disc].append((cid, 0, 0, size, None, None, None))
                extents.append((cid, 0, 0, put(disc, data), size))
            if size > chunk:  # the scan may have recorded them already (same data, same chunk size)
                chunk_rows += [
                    (cid, i // chunk, hashlib.sha256(data[i : i + chunk]).digest()) for i in range(0, size, chunk)
                ]
        for d, f in enumerate(files):
            f.truncate(pos[d])
            f.close()
            plans.add_disc(conn, first + d, "ODARCHIVE", 25 * 10**9, pos[d], 25 * 10**9, None, placed[d], [])
        images_rows.record_layout(conn, [(e[0], e[1]) for e in extents if e[2] == 0], extents, [])
        chunks.record(conn, chunk_rows)
        for d in range(discs):
            name = f"disc{first + d}.iso"
            images_rows.mark_written(conn, first + d, name, pos[d], file_sha256(images / name))


def _data_by_sha(catalogue: Path) -> dict[bytes, bytes]:
    """Every archived file's bytes by SHA-256, read back from the sources' paths."""
    out: dict[bytes, bytes] = {}
    with Catalogue.open(catalogue, readonly=True) as cat:
        src_path = cat.sources()[0].path
    for dirpath, _dirs, names in os.walk(os.fsencode(src_path)):
        for name in names:
            p = os.path.join(dirpath, name)
            if os.path.islink(p):
                continue
            data = open(p, "rb").read()
            out[hashlib.sha256(data).digest()] = data
    return out


def build_archive(tmp: Path, discs: int = 5) -> Archive:
    src, home, images = tmp / "src", tmp / "home", tmp / "images"
    home.mkdir(parents=True, exist_ok=True)
    src.mkdir(parents=True)
    make_tree(src)
    changed = b"src/hello.txt"
    old = (src / "hello.txt").read_bytes()
    assert main(["--home", str(home), "create_db", str(src)]) == 0
    (src / "hello.txt").write_bytes(b"hello again, archive; now longer\n")
    assert main(["--home", str(home), "create_db", str(src)]) == 0
    place_on_discs(home / "catalogue.sqlite", images, discs)
    return Archive(home, src, images, discs, 1, changed, old)
