"""Small files read ahead by a child process while the parent lays the image out.

Reading and checking 100,000 tiny files (open, fstat, read, close and a SHA-256 each) is about
half of an image build's time, all of it on one core while the other waits. `ReadAhead` forks a
child that shares the finalized layout (copy on write) and, while the parent renders the
manifests and lays out the image, reads every small whole file in the order the writer takes
them, checks it against its content hash and appends its bytes to an unnamed temporary file (up to
MAX_BYTES: the files after those are read by the parent, as before), each after the first TAG
bytes of its hash. The parent takes them by order and compares each tag with the file it wants:
a file out of step (a bug) ends the read-ahead, and the parent reads that file and the rest
itself, so no bytes land under another file's name.
The child touches no database and imports nothing; it ends with `os._exit`. The parent takes
each file's bytes from that file when the writer reaches it (`take`).

A source that fails its check stops the child, which records the file and the reason; the
parent raises `SourceChanged` for it at its first `take`, and the image is abandoned as
before. Any other failure of the child (a full disk, a kill) makes the parent read the files
itself. A process with other threads does not fork (a lock one of them held would stay held in
the child): it reads in-process, as before.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from odarchive.iso.feeder import SourceChanged, read_small

MIN_FILES = 2  # fewer stored files are read in-process
MAX_BYTES = 256 << 20  # the child reads ahead at most about this much (the rest is read in-process)
FLUSH = 1 << 20
READ = 1 << 20
PREFIX = ".odarchive-readahead-"
TAG = 8  # bytes of each file's SHA-256 before its bytes

log = logging.getLogger("odarchive.iso")

SmallFile = tuple[bytes, int, bytes]  # source path, size, content SHA-256


class ReadAhead:
    """The bytes of `files()` (a generator the child runs; the parent's `take` calls come in the
    same order), read by a child process."""

    def __init__(self, files: Callable[[], Iterator[SmallFile]], out_dir: Path) -> None:
        self.data = tempfile.TemporaryFile(dir=out_dir, prefix=PREFIX)
        self.status = tempfile.TemporaryFile(dir=out_dir, prefix=PREFIX)
        self.pid = -1
        self.failed: SourceChanged | None = None
        self.ok: bool | None = None  # known once the child ended
        self.left = 0  # files the child read that were not taken yet
        self._buf = b""
        self._at = 0  # offset in `_buf`
        self._pos = 0  # offset in `data` after `_buf`
        pid = os.fork()
        if pid == 0:  # the child
            code = 1
            try:
                code = _child(files(), self.data.fileno(), self.status.fileno())
            finally:
                os._exit(code)
        self.pid = pid

    def _join(self) -> None:
        _, status = os.waitpid(self.pid, 0)
        self.pid = -1
        code = os.waitstatus_to_exitcode(status)
        said = json.loads(os.pread(self.status.fileno(), 1 << 16, 0) or b"{}") if code in (0, 2) else {}
        if code == 2:
            self.failed = SourceChanged(said.get("name", "?"), said.get("why", "it could not be read"))
        self.ok = code == 0
        self.left = said.get("files", 0)

    def take(self, size: int, sha256: bytes) -> bytes | None:
        """The bytes of the next file, whose content SHA-256 is `sha256` (checked by the child);
        None if the child did not read them (read them here)."""
        if self.ok is None:
            self._join()
        if self.failed is not None:
            raise self.failed
        if not self.ok or not self.left:
            return None  # (the child stopped at MAX_BYTES, or failed)
        self.left -= 1
        need = TAG + size
        while len(self._buf) - self._at < need:
            more = os.pread(self.data.fileno(), max(READ, need), self._pos)
            if not more:
                raise SourceChanged("?", "the read-ahead file ended early")
            self._buf = self._buf[self._at :] + more
            self._at = 0
            self._pos += len(more)
        tag = self._buf[self._at : self._at + TAG]
        if tag != sha256[:TAG]:
            log.warning("small files read ahead out of step (a bug): the rest are read in-process")
            self.ok = False
            return None
        data = self._buf[self._at + TAG : self._at + need]
        self._at += need
        return data

    def close(self) -> None:
        if self.pid > 0:
            try:
                os.kill(self.pid, 9)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = -1
        self.data.close()
        self.status.close()


def _child(files: Iterator[SmallFile], data_fd: int, status_fd: int) -> int:
    """Read and check every file into `data_fd`: 0 when all were read, 2 when a source failed its
    check (its name and the reason in `status_fd`), 1 on any other failure."""
    buf: list[bytes] = []
    gathered = total = count = 0
    try:
        for path, size, sha in files:
            if total >= MAX_BYTES:
                break
            data = read_small(path, size, sha)
            buf += (sha[:TAG], data)
            gathered += TAG + len(data)
            total += len(data)
            count += 1
            if gathered >= FLUSH:
                _write_all(data_fd, b"".join(buf))
                buf, gathered = [], 0
        _write_all(data_fd, b"".join(buf))
        _write_all(status_fd, json.dumps({"files": count}).encode())
        return 0
    except SourceChanged as e:
        _write_all(status_fd, json.dumps({"name": e.name, "why": e.why}).encode())
        return 2
    except BaseException:
        return 1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def start(files: Callable[[], Iterator[SmallFile]], out_dir: Path, n_files: int) -> ReadAhead | None:
    """A `ReadAhead` of `files()` when it is worth it and safe (at least MIN_FILES files, no other
    thread in this process), else None: the files are read in-process."""
    if n_files < MIN_FILES or threading.active_count() != 1 or not hasattr(os, "fork"):
        return None
    try:
        return ReadAhead(files, out_dir)
    except Exception:  # no child (no processes left, no room for its file): read them here
        return None
