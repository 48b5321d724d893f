"""File objects that feed source bytes to pycdlib and check them on the way.

pycdlib reads each file's data once, while it writes the image. A `SourceFeed` opens the
source only then, hashes every byte it passes on and, at the end, compares with the catalogue:
the content's SHA-256 for a whole file, the recorded chunk hashes for a piece of a split file
(it reads the few bytes around the piece that complete its first and last chunk). A source
that changed since the scan raises `SourceChanged` naming the file, which aborts the image.
It also computes the SHA-256 of every chunk (`chunk_size`) of a large content (more than
`CHUNKED_MIN_CHUNKS` chunks: the mount reads smaller contents whole, checked by their content
hash, see fuse_mount's `whole_max_bytes`, 64 MiB) and of every split content.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from odarchive.catalogue.chunks import wants_chunk_hashes
from odarchive.errors import DiscError

READ_SIZE = 1 << 20
PARALLEL_MIN = 256 * 1024
_POOL: list[ThreadPoolExecutor] = []


def _hash_pool() -> ThreadPoolExecutor:
    """One worker thread that hashes chunks while the caller hashes the whole (GIL released)."""
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(1, thread_name_prefix="odarchive-hash"))
    return _POOL[0]


class SourceChanged(DiscError):
    def __init__(self, name: str, why: str) -> None:
        super().__init__(
            f"source file {name} changed since it was scanned ({why}); no image was written",
            hint="run `odarchive create_db` on the source again, then `odarchive plan_iso` and `create_iso`",
        )
        self.name, self.why = name, why


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOATIME", 0)


def open_source(path: bytes, name: str, size: int) -> int:
    try:
        fd = os.open(path, _READ_FLAGS)
    except PermissionError:
        fd = os.open(path, os.O_RDONLY)
    except OSError as e:
        raise SourceChanged(name, f"cannot open: {e.strerror}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_size != size:
        os.close(fd)
        raise SourceChanged(name, f"size is {st.st_size}, the catalogue says {size}")
    return fd


def read_small(path: bytes, size: int, expect_sha: bytes) -> bytes:
    """The whole of a small source file in one read, checked against its content hash (a
    file read whole by the mount: no chunk hashes)."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError:
        fd = open_source(path, os.fsdecode(path), size)  # (says why, or opens without O_NOATIME)
    st = os.fstat(fd)
    if st.st_size != size or not stat.S_ISREG(st.st_mode):
        os.close(fd)
        fd = open_source(path, os.fsdecode(path), size)  # (raises SourceChanged)
    try:
        data = os.read(fd, size) if size else b""
    finally:
        os.close(fd)
    if len(data) != size:
        raise SourceChanged(os.fsdecode(path), "it is shorter than when scanned")
    if hashlib.sha256(data).digest() != expect_sha:
        raise SourceChanged(os.fsdecode(path), "its SHA-256 differs from the catalogue's")
    return data


class ChunkHasher:
    """SHA-256 of consecutive `chunk_size` chunks of a content, from chunk `first` on."""

    def __init__(self, chunk_size: int, first: int) -> None:
        self.chunk_size = chunk_size
        self.index = first
        self.h = hashlib.sha256()
        self.filled = 0
        self.done: list[tuple[int, bytes]] = []

    def update(self, data: memoryview | bytes) -> None:
        mv = memoryview(data)
        while mv:
            take = min(len(mv), self.chunk_size - self.filled)
            self.h.update(mv[:take])
            self.filled += take
            mv = mv[take:]
            if self.filled == self.chunk_size:
                self.close()

    def close(self) -> None:
        if self.filled:
            self.done.append((self.index, self.h.digest()))
            self.index += 1
            self.h = hashlib.sha256()
            self.filled = 0


class SourceFeed:
    """A read-once file object over bytes [offset, offset+length) of a source file.

    `expect_sha`: the content's hash (whole files). `expect_chunks`: chunk index -> hash
    (pieces). `on_done(feed)` runs after the last byte passed the checks.
    """

    mode = "rb"  # pycdlib accepts only binary file objects
    __slots__ = (
        "chunk_size",
        "chunks",
        "content_size",
        "expect_chunks",
        "expect_sha",
        "fd",
        "length",
        "name",
        "offset",
        "on_done",
        "passed",
        "path",
        "sha",
    )

    def __init__(
        self,
        path: bytes,
        name: str,
        content_size: int,
        offset: int,
        length: int,
        chunk_size: int,
        expect_sha: bytes | None,
        expect_chunks: dict[int, bytes] | None,
        on_done: Callable[[SourceFeed], None] | None = None,
    ) -> None:
        self.path, self.name, self.content_size = path, name, content_size
        self.offset, self.length, self.chunk_size = offset, length, chunk_size
        self.expect_sha, self.expect_chunks, self.on_done = expect_sha, expect_chunks, on_done
        self.fd = -1
        self.passed = 0
        self.sha: Any = None  # created when the file is opened, dropped when it is done
        self.chunks: ChunkHasher | None = None

    def seek(self, pos: int, whence: int = 0) -> int:
        if pos != 0 or whence != 0 or self.passed:
            raise ValueError("SourceFeed can only be read once from the start")
        return 0

    def tell(self) -> int:
        return self.passed

    def _open(self) -> None:
        self.fd = open_source(self.path, self.name, self.content_size)
        if self.expect_sha is not None:
            self.sha = hashlib.sha256()
        first = self.offset // self.chunk_size
        if self.expect_chunks is None and not wants_chunk_hashes(self.content_size, self.chunk_size):
            return  # read whole by the mount: the content hash says it all
        self.chunks = ChunkHasher(self.chunk_size, first)
        lead = self.offset - first * self.chunk_size
        if lead:
            self.chunks.update(self._pread(first * self.chunk_size, lead))

    def _pread(self, pos: int, n: int) -> bytes:
        data = os.pread(self.fd, n, pos)
        if len(data) != n:
            self._fail("it is shorter than when scanned")
        return data

    def read(self, n: int = -1) -> bytes:
        if self.fd < 0:
            if self.passed:
                return b""
            self._open()
        n = self.length - self.passed if n < 0 else min(n, self.length - self.passed)
        data = self._pread(self.offset + self.passed, n) if n else b""
        if self.sha is not None and self.chunks is not None and len(data) >= PARALLEL_MIN:
            done = _hash_pool().submit(self.chunks.update, data)  # both hashes at once, on two cores
            self.sha.update(data)
            done.result()
        else:
            if self.sha is not None:
                self.sha.update(data)
            if self.chunks is not None:
                self.chunks.update(data)
        self.passed += len(data)
        if self.passed == self.length:
            self._finish()
        return data

    def _finish(self) -> None:
        end = self.offset + self.length
        tail = min(-end % self.chunk_size, self.content_size - end)
        if self.chunks is not None:
            if tail and self.expect_chunks is not None:
                self.chunks.update(self._pread(end, tail))
            self.chunks.close()
        os.close(self.fd)
        self.fd = -1
        if self.sha is not None and self.sha.digest() != self.expect_sha:
            self._fail("its SHA-256 differs from the catalogue's")
        self.sha = None
        if self.expect_chunks is not None and self.chunks is not None:
            for index, h in self.chunks.done:
                if self.expect_chunks.get(index, h) != h:
                    self._fail(f"chunk {index} differs from the catalogue's")
        if self.on_done is not None:
            self.on_done(self)

    def _fail(self, why: str) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        raise SourceChanged(self.name, why)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def hash_whole(
    path: bytes, name: str, size: int, chunk_size: int, pieces: list[tuple[int, int]]
) -> tuple[bytes, list[tuple[int, bytes]], list[bytes]]:
    """Read a whole source once: (content SHA-256, chunk hashes, SHA-256 of each (offset, length) piece)."""
    fd = open_source(path, name, size)
    try:
        whole, chunks = hashlib.sha256(), ChunkHasher(chunk_size, 0)
        piece_h = [hashlib.sha256() for _ in pieces]
        pos = 0
        while pos < size:
            data = os.pread(fd, min(READ_SIZE, size - pos), pos)
            if not data:
                raise SourceChanged(name, "it is shorter than when scanned")
            done = _hash_pool().submit(chunks.update, data)
            whole.update(data)
            view = memoryview(data)
            for (off, length), h in zip(pieces, piece_h):
                lo, hi = max(off, pos), min(off + length, pos + len(data))
                if lo < hi:
                    h.update(view[lo - pos : hi - pos])
            done.result()
            pos += len(data)
        chunks.close()
    finally:
        os.close(fd)
    return whole.digest(), chunks.done, [h.digest() for h in piece_h]
