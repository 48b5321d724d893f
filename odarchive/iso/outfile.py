"""The image file pycdlib writes into: holes for zeros, and its SHA-256 as it is written.

pycdlib copies every byte of every file; a large run of zeros (sparse sources, pre-allocated
files) then costs a full write. `SparseImageFile` compares each large write with a zero
buffer (a memcmp) and seeks over it instead, unless something was written there before;
reading the holes gives zeros, so the image's bytes are the same. It is extended to its full length on close.

The image's SHA-256: pycdlib writes the metadata first (seeking about), then the files' data
in extent order (`populate` adds files in that order). From the first data write at
`stream_from` on, each write is hashed from memory on a helper thread, and the few gaps
(block padding, the closing UDF anchor) are read back from the file; so the image is hashed
without reading its data again. Should a write ever go backwards, the image is simply read
back whole on close.
"""

from __future__ import annotations

import bisect
import hashlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

MIN_HOLE = 64 * 1024
ZEROS = bytes(1 << 20)  # pycdlib writes file data in pieces of at most its blocksize (1 MiB here)
READ = 1 << 20
THREAD_MIN = 256 * 1024


class SparseImageFile:
    mode = "wb"

    def __init__(self, path: Path, stream_from: int | None = None) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self.path = path
        self.pos = 0
        self.end = 0
        self.stream_from = stream_from
        self.hashed = -1  # bytes hashed so far; -1: streaming not started
        self.sha = hashlib.sha256()
        self.streaming = stream_from is not None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="odarchive-image-hash")
        self._pending: Future[None] | None = None
        self.sha256: bytes | None = None
        self._written: list[tuple[int, int]] = []  # merged (start, stop) ranges written so far

    def _can_skip(self, data: bytes) -> bool:
        """All zeros, and over nothing written before (so the hole reads as these zeros)."""
        n = len(data)
        if n == len(ZEROS):
            zero = data == ZEROS  # a memcmp; stops at the first non-zero byte
        else:
            zero = MIN_HOLE <= n < len(ZEROS) and data == ZEROS[:n]
        if not zero or self.pos < self.hashed:  # below the data written in sequence: write it
            return False
        return not self._overlaps_written(self.pos, self.pos + n)

    def _overlaps_written(self, start: int, stop: int) -> bool:
        """Whether [start, stop) meets a range written before the data (metadata, the anchor)."""
        i = bisect.bisect_left(self._written, (stop, 0))
        return i > 0 and self._written[i - 1][1] > start

    def _mark(self, start: int, stop: int) -> None:
        """Remember a written range (merged with its predecessor when they touch). Sequential
        data writes need no record: nothing later is written below them."""
        if self.streaming and self.hashed >= 0:
            return
        w = self._written
        i = bisect.bisect_right(w, (start, stop))
        if i and w[i - 1][1] == start:
            w[i - 1] = (w[i - 1][0], stop)
        else:
            w.insert(i, (start, stop))

    def write(self, data: bytes) -> int:
        n = len(data)
        skip = self._can_skip(data)  # (before the hash pointer moves over this write)
        if self.streaming:
            self._stream(self.pos, data)
        if not skip:
            view = memoryview(data)
            done = 0
            while done < n:
                done += os.pwrite(self.fd, view[done:], self.pos + done)
            self._mark(self.pos, self.pos + n)
        self.pos += n
        self.end = max(self.end, self.pos)
        return n

    def _stream(self, pos: int, data: bytes) -> None:
        if self.hashed < 0:
            if pos != self.stream_from:
                return  # still writing metadata
            self._hash_from_file(0, pos)
        elif pos < self.hashed:
            self.streaming = False  # out of order: hash the whole file on close
            return
        elif pos > self.hashed:
            self._hash_gap(self.hashed, pos)
        self._submit(data)
        self.hashed = pos + len(data)

    def _submit(self, data: bytes) -> None:
        if self._pending is not None:
            self._pending.result()  # at most one buffer in flight
            self._pending = None
        if len(data) < THREAD_MIN:
            self.sha.update(data)  # a thread hand-off costs more than hashing a small write
        else:
            self._pending = self._pool.submit(self.sha.update, data)

    def _hash_gap(self, start: int, stop: int) -> None:
        """Bytes skipped by the sequential data writes (block padding): zeros, unless metadata
        was written there before."""
        if self._overlaps_written(start, stop):
            self._hash_from_file(start, stop)
            return
        while start < stop:
            n = min(len(ZEROS), stop - start)
            self._submit(ZEROS if n == len(ZEROS) else ZEROS[:n])
            start += n

    def _hash_from_file(self, start: int, stop: int) -> None:
        while start < stop:
            chunk = os.pread(self.fd_read(), min(READ, stop - start), start)
            if not chunk:  # a hole at the end, before the file is extended
                chunk = bytes(min(READ, stop - start))
            self._submit(chunk)
            start += len(chunk)

    def fd_read(self) -> int:
        if not hasattr(self, "_rfd"):
            self._rfd = os.open(self.path, os.O_RDONLY)
        return self._rfd

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == os.SEEK_SET:
            self.pos = offset
        elif whence == os.SEEK_CUR:
            self.pos += offset
        else:
            self.pos = self.end + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def close(self) -> None:
        """Extend the file over trailing holes, finish its hash, flush it and close it."""
        if self.fd < 0:
            return
        os.ftruncate(self.fd, max(self.end, os.fstat(self.fd).st_size))
        size = os.fstat(self.fd).st_size
        if not (self.streaming and self.hashed >= 0):
            self.sha = hashlib.sha256()
            self.hashed = 0
        self._hash_from_file(self.hashed, size)
        if self._pending is not None:
            self._pending.result()
        self.sha256 = self.sha.digest()
        os.fsync(self.fd)
        self.abandon()

    def abandon(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if hasattr(self, "_rfd"):
            os.close(self._rfd)
            del self._rfd
        self._pool.shutdown(wait=True)
