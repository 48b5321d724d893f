"""Cached reads served by libfuse from the cache files themselves (its `read_buf` operation).

A read that returns bytes costs the mount, per byte: a pread into a Python buffer, a slice, a
copy into libfuse's buffer (ctypes and mfusepy's memmove), and libfuse's write to /dev/fuse;
all but the last under the GIL. With `read_buf` the mount only says where the bytes are: a
`fuse_bufvec` of (cache file descriptor, offset, length) pieces. libfuse then moves them
after the Python callback has returned, without the GIL: spliced from the cache file's page
cache to /dev/fuse (`FUSE_CAP_SPLICE_WRITE`: one copy, in the kernel), or read into one
buffer and written (reads under two pages, or if splice is refused).

What a piece may point at: only a cache file whose blocks the store has verified in this
version of the file (`store.VerifiedMemo`, by inode, size, mtime and ctime, checked with an
`fstat` of the descriptor on every read) and whose chunk the index still lists. Anything
else (a miss, a block not yet verified, a file evicted or replaced) is served the old way,
as bytes (`Vfs.read`), so the fetcher path and the verification stay what they were.

Descriptors: each open file handle keeps its own (`ChunkFds`, at most `KEPT_PER_HANDLE`),
closed at release. libfuse reads a descriptor after `read_buf` has returned, on the thread
that called it, until its reply is written; so a descriptor is closed only once no thread's
last reply may still use it: a *lease* per thread, taken by each read it answers with that
descriptor and ended by that thread's next read (its previous reply is then written). A
handle's release comes after every read of it has been answered (the kernel holds the file
until then), so it closes all of its descriptors.
"""

from __future__ import annotations

import ctypes
import os
import queue
import struct
import threading
from collections import OrderedDict
from typing import NamedTuple

FUSE_BUF_IS_FD = 1 << 1
FUSE_BUF_FD_SEEK = 1 << 2
FUSE_BUF_FD_RETRY = 1 << 3
FD_FLAGS = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK | FUSE_BUF_FD_RETRY
KEPT_PER_HANDLE = 32
"""Cache files kept open per file handle (a sequential read needs one or two at a time; random
reads over 512 MiB of 16 MiB chunks reopen none: with 8, fio's random 4 KiB reads over a 256 MB
file reopened a cache file every second read)."""
READ_AHEAD_BYTES = 8 << 20
"""How far ahead of a sequential read its cache file is read into memory."""

_libc = ctypes.CDLL(None)
_malloc = _libc.malloc
_malloc.restype, _malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
_free = _libc.free
_free.restype, _free.argtypes = None, [ctypes.c_void_p]

_HEAD = struct.Struct("@NNN")  # struct fuse_bufvec: count, idx, off, then buf[count] inline
_BUF = struct.Struct("@NiPiq")  # struct fuse_buf: size, flags, mem, fd, pos
_BUF_SIZE = _BUF.size + (-_BUF.size % ctypes.alignment(ctypes.c_int64))


class Piece(NamedTuple):
    """`size` bytes of the open cache file `fd` from `pos`."""

    fd: int
    pos: int
    size: int


def bufvec(parts: list[Piece] | bytes) -> int:
    """A `fuse_bufvec` allocated with malloc (libfuse frees it, and the memory of pieces that
    are not descriptors, after the reply): the pieces, or one memory buffer with the bytes."""
    if isinstance(parts, bytes):
        mem = _malloc(len(parts) or 1)
        if not mem:
            raise MemoryError
        ctypes.memmove(mem, parts, len(parts))
        entries = [(len(parts), 0, mem, -1, 0)]
    else:
        entries = [(p.size, FD_FLAGS, 0, p.fd, p.pos) for p in parts] or [(0, 0, 0, -1, 0)]
    size = _HEAD.size + _BUF_SIZE * len(entries)
    vec = _malloc(size)
    if not vec:
        raise MemoryError
    raw = (ctypes.c_char * size).from_address(vec)
    ctypes.memset(vec, 0, size)
    _HEAD.pack_into(raw, 0, len(entries), 0, 0)
    for i, entry in enumerate(entries):
        _BUF.pack_into(raw, _HEAD.size + i * _BUF_SIZE, *entry)
    return vec


class ChunkFd:
    """An open cache file: who uses it, and how far its sequential reads have asked the
    kernel to read ahead."""

    __slots__ = ("advised", "fd", "retired", "users")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.users = 0  # threads whose last reply used it
        self.retired = False  # close once unused
        self.advised = 0  # read ahead asked up to here

    def read_ahead(self, pos: int, size: int, length: int) -> None:
        """A read of [pos, pos+size) is about to be sent from this file of `length` bytes (the
        caller holds it). If it streams (it starts the file, or lies in the window asked for
        last) and the file goes on beyond it, have the kernel read the next READ_AHEAD_BYTES
        of the file from the cache's disk now, on the
        read-ahead thread: libfuse reads the file only as each request comes (the disc-cache
        read and the request's round trip then add up instead of overlapping). Threads may
        race here: it is only a hint."""
        stop = pos + size
        if (
            stop < length
            and self.advised - READ_AHEAD_BYTES <= pos <= self.advised
            and stop + READ_AHEAD_BYTES // 2 > self.advised
        ):
            start = max(self.advised, stop)
            self.advised = start + READ_AHEAD_BYTES
            with _lock:
                self.users += 1  # until the read-ahead thread has advised it
                global _ahead_thread
                if _ahead_thread is None:
                    _ahead_thread = threading.Thread(target=_read_ahead, name="odarchive-read-ahead", daemon=True)
                    _ahead_thread.start()
            _ahead.put((self, start))


def _read_ahead() -> None:
    """The read-ahead thread: asks the kernel for what `ChunkFd.read_ahead` queued (an
    fadvise blocks while it submits the reads: it must not delay a reply). A handle released
    meanwhile closes its files whoever holds them: the advice then fails harmlessly."""
    while True:
        f, start = _ahead.get()
        try:
            os.posix_fadvise(f.fd, start, READ_AHEAD_BYTES, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            release([f])


_ahead: queue.SimpleQueue[tuple[ChunkFd, int]] = queue.SimpleQueue()
_ahead_thread: threading.Thread | None = None


_leases = threading.local()  # .held: the ChunkFd list the thread's last reply used
_lock = threading.Lock()  # guards every ChunkFd's users/retired and every ChunkFds


def release(fds: list[ChunkFd]) -> None:
    """These descriptors are no longer used by the calling thread (closed if retired)."""
    with _lock:
        for f in fds:
            f.users -= 1
            if f.retired and f.users == 0 and f.fd >= 0:
                os.close(f.fd)
                f.fd = -1


def end_lease() -> None:
    """The calling thread's previous reply is written: its descriptors may be closed."""
    held = getattr(_leases, "held", None)
    if held:
        _leases.held = None
        release(held)


def hold(fds: list[ChunkFd]) -> None:
    """The calling thread's reply about to be sent reads these (acquired) descriptors."""
    _leases.held = fds


class ChunkFds:
    """The cache files one file handle has open, by chunk row id (least recently used first)."""

    def __init__(self) -> None:
        self._open: OrderedDict[int, ChunkFd] = OrderedDict()
        self._closed = False

    def acquire(self, rowid: int, path: str) -> ChunkFd | None:
        """The open file of chunk row `rowid` (opening `path`), counted as used by the caller
        (`release` it, or `hold` it for the reply), or None if it cannot be opened."""
        with _lock:
            f = self._open.get(rowid)
            if f is not None:
                self._open.move_to_end(rowid)
                f.users += 1
                return f
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:  # missing, or no descriptor left (EMFILE): the read goes the old way
            return None
        with _lock:
            if self._closed:
                os.close(fd)
                return None
            f = self._open.get(rowid)
            if f is not None:  # another thread opened it meanwhile
                os.close(fd)
            else:
                f = self._open[rowid] = ChunkFd(fd)
                while len(self._open) > KEPT_PER_HANDLE:
                    self._retire(self._open.popitem(last=False)[1])
            f.users += 1
            return f

    def drop(self, rowid: int, f: ChunkFd) -> None:
        """Stop using `f` for `rowid` (the file was evicted or replaced): closed once unused."""
        with _lock:
            if self._open.get(rowid) is f:
                del self._open[rowid]
            self._retire(f)

    def close(self) -> None:
        """Close every descriptor (the handle is released: no reply of it is under way)."""
        with _lock:
            self._closed = True
            for f in self._open.values():
                if f.fd >= 0:
                    os.close(f.fd)
                    f.fd = -1
                f.retired = True
            self._open.clear()

    @staticmethod
    def _retire(f: ChunkFd) -> None:
        f.retired = True
        if f.users == 0 and f.fd >= 0:
            os.close(f.fd)
            f.fd = -1
