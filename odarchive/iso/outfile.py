"""The image file, written strictly in order: holes for zeros, and its SHA-256 as it goes.

`ImageSink.put(data)` appends bytes. Small pieces (the metadata: records, descriptors) are
gathered into one buffer and written 1 MiB at a time; large ones (file data) are written as
they come. Each write is hashed on a helper thread while the caller goes on (reading and
checking the next source chunk), with at most one buffer in flight, so the image is hashed
without reading it back. A large write that is all zeros (sparse sources, padding) is not
written but skipped over; the file is extended to its full length at the end, and reading the
holes gives the same zeros.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

ZEROS = bytes(1 << 20)
GATHER = 1 << 20
MIN_HOLE = 64 * 1024
THREAD_MIN = 256 * 1024


class ImageSink:
    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self.pos = 0  # bytes accepted so far (written, gathered or skipped)
        self._buf = bytearray()
        self._sha = hashlib.sha256()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="odarchive-image-hash")
        self._pending: Future[None] | None = None
        self.sha256: bytes | None = None
        self.hash = self._sha  # the hashlib object: it goes on over what is appended later (the ECC)

    def put(self, data: bytes | bytearray | memoryview) -> None:
        n = len(data)
        if n < THREAD_MIN:
            self._buf += data
            self.pos += n
            if len(self._buf) >= GATHER:
                self._flush()
            return
        self._flush()
        self._emit(data)
        self.pos += n

    def zeros(self, n: int) -> None:
        if n < THREAD_MIN:
            self._buf += bytes(n)
            self.pos += n
            return
        while n > 0:
            take = min(n, len(ZEROS))
            self.put(memoryview(ZEROS)[:take])
            n -= take

    def pad_to_block(self, block: int = 2048) -> None:
        self.zeros(-self.pos % block)

    def _flush(self) -> None:
        if self._buf:
            data, self._buf = bytes(self._buf), bytearray()
            self._emit(data, at=self.pos - len(data))

    def _emit(self, data: bytes | bytearray | memoryview, at: int | None = None) -> None:
        at = self.pos if at is None else at
        self._hash(data)
        n = len(data)
        if n >= MIN_HOLE and (data == ZEROS[:n] if n < len(ZEROS) else data == ZEROS):
            return  # a hole: skipped, extended over at close
        view = memoryview(data)
        done = 0
        while done < n:
            done += os.pwrite(self.fd, view[done:], at + done)

    def _hash(self, data: bytes | bytearray | memoryview) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None
        if len(data) < THREAD_MIN:
            self._sha.update(data)
        else:
            self._pending = self._pool.submit(self._sha.update, data)

    def close(self) -> None:
        """Write what is gathered, extend the file over trailing holes, finish the hash, fsync."""
        if self.fd < 0:
            return
        self._flush()
        if self._pending is not None:
            self._pending.result()
            self._pending = None
        os.ftruncate(self.fd, self.pos)
        self.sha256 = self._sha.digest()
        os.fsync(self.fd)
        self.abandon()

    def abandon(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        self._pool.shutdown(wait=True)
