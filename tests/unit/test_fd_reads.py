"""Cached reads answered with pieces of the cache's files (libfuse's read_buf, `fuse_mount.fd_reads`).

The pieces are turned into bytes by libfuse's own `fuse_buf_copy` (what it does with them
when it does not splice), so the layout of the `fuse_bufvec` built in Python is checked
against the library that reads it.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fuse_mount import fd_reads
from fuse_mount.fuse_lib import mfusepy
from fuse_mount.service import ArchiveService
from tests.lib.mount_archive import CHUNK, Archive, build_archive
from tests.lib.mount_conformance import images_service

_lib = mfusepy._libfuse
_lib.fuse_buf_copy.restype = ctypes.c_ssize_t
_lib.fuse_buf_copy.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
_free = ctypes.CDLL(None).free
_free.argtypes = [ctypes.c_void_p]


def libfuse_bytes(parts: list[fd_reads.Piece] | bytes, limit: int = 4 * CHUNK) -> bytes:
    """The bytes libfuse sends for `parts`: its `fuse_buf_copy` of our bufvec into memory;
    then the bufvec is freed as libfuse frees it (memory pieces, then the vector)."""
    vec = fd_reads.bufvec(parts)
    out = ctypes.create_string_buffer(limit)
    dst = fd_reads.bufvec([])  # one empty piece, made a memory buffer of `limit` bytes below
    try:
        raw = (ctypes.c_char * fd_reads._BUF_SIZE).from_address(dst + fd_reads._HEAD.size)
        fd_reads._BUF.pack_into(raw, 0, limit, 0, ctypes.addressof(out), -1, 0)
        n = _lib.fuse_buf_copy(dst, vec, 0)
        assert n >= 0, os.strerror(-n)
        return out.raw[:n]
    finally:
        count = fd_reads._HEAD.unpack_from((ctypes.c_char * fd_reads._HEAD.size).from_address(vec))[0]
        for i in range(count):
            entry = (ctypes.c_char * fd_reads._BUF_SIZE).from_address(
                vec + fd_reads._HEAD.size + i * fd_reads._BUF_SIZE
            )
            _, flags, mem, _, _ = fd_reads._BUF.unpack_from(entry)
            if not flags & fd_reads.FUSE_BUF_IS_FD:
                _free(mem)
        _free(vec)
        _free(dst)
        fd_reads.end_lease()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return build_archive(tmp_path_factory.mktemp("archive"))


@pytest.fixture
def service(archive: Archive, tmp_path: Path) -> Iterator[ArchiveService]:
    s = images_service(archive, tmp_path / "cache")
    yield s
    s.close()


def test_cached_ranges_are_pieces_of_the_cache_files_and_read_exactly(
    service: ArchiveService, archive: Archive
) -> None:
    data = (archive.src / "big.bin").read_bytes()
    vfs = service.vfs
    fh = vfs.open(b"/src/big.bin")
    try:
        first = vfs.read_parts(fh, len(data), 0)
        assert isinstance(first, bytes) and first == data  # a miss: bytes, through the fetcher
        for offset, size in (
            (0, 10),
            (CHUNK - 5, 10),  # across a chunk end: two pieces
            (CHUNK, CHUNK),
            (2 * CHUNK - 1, 2 * CHUNK + 2),  # three pieces
            (len(data) - 10, 100),  # to the end of the file
        ):
            parts = vfs.read_parts(fh, size, offset)
            assert isinstance(parts, list) and parts, (offset, size)
            assert len(parts) == (offset + min(size, len(data) - offset) - 1) // CHUNK - offset // CHUNK + 1
            assert libfuse_bytes(parts) == data[offset : offset + size], (offset, size)
        assert vfs.read_parts(fh, 10, len(data)) == b""  # at or past the end: nothing
        assert libfuse_bytes(b"") == b""
    finally:
        vfs.release(fh)


def test_a_cache_file_evicted_or_replaced_while_open_is_not_served_from_its_descriptor(
    service: ArchiveService, archive: Archive
) -> None:
    data = (archive.src / "big.bin").read_bytes()
    vfs = service.vfs
    key = hashlib.sha256(data).hexdigest()
    fh = vfs.open(b"/src/big.bin")
    try:
        assert vfs.read_parts(fh, len(data), 0) == data  # fetched into the cache
        parts = vfs.read_parts(fh, 100, CHUNK + 7)
        assert isinstance(parts, list) and libfuse_bytes(parts) == data[CHUNK + 7 : CHUNK + 107]
        chunk_file = Path(service.cache._reads._store.path(key, 1))
        chunk_file.unlink()  # evicted by another process while the file is open
        got = vfs.read_parts(fh, 100, CHUNK + 7)
        assert isinstance(got, bytes) and got == data[CHUNK + 7 : CHUNK + 107]  # fetched again, not the old file
        parts = vfs.read_parts(fh, 100, CHUNK + 7)
        assert isinstance(parts, list) and libfuse_bytes(parts) == data[CHUNK + 7 : CHUNK + 107]  # the new file

        corrupt = bytearray(chunk_file.read_bytes())
        corrupt[10] ^= 0xFF
        tmp = chunk_file.with_suffix(".tmp")
        tmp.write_bytes(corrupt)
        os.replace(tmp, chunk_file)  # replaced with wrong bytes: verified again, dropped, fetched
        got = vfs.read_parts(fh, 100, CHUNK)
        assert isinstance(got, bytes) and got == data[CHUNK : CHUNK + 100]
    finally:
        vfs.release(fh)
    assert service.cache.stats().corrupt_drops == 1


def test_descriptors_in_use_by_a_reply_stay_open_until_the_thread_reads_again(tmp_path: Path) -> None:
    files = [tmp_path / f"f{i}" for i in range(fd_reads.KEPT_PER_HANDLE + 2)]
    for f in files:
        f.write_bytes(b"x")
    fds = fd_reads.ChunkFds()
    first = fds.acquire(0, str(files[0]))
    assert first is not None
    fd_reads.hold([first])  # the reply of this thread's read uses it
    for i, f in enumerate(files[1:], 1):
        got = fds.acquire(i, str(f))
        assert got is not None
        fd_reads.release([got])
    assert first.retired and first.fd >= 0 and os.fstat(first.fd)  # pushed out, but still in use
    fd_reads.end_lease()  # the thread's next read: its last reply is written
    assert first.fd == -1
    assert fds.acquire(99, str(tmp_path / "missing")) is None
    with pytest.MonkeyPatch.context() as m:
        m.setattr(os, "open", lambda *_: (_ for _ in ()).throw(OSError(errno.EMFILE, "Too many open files")))
        assert fds.acquire(98, str(files[0])) is None  # no descriptor left: the read goes the old way
    fds.close()
    assert fds.acquire(0, str(files[0])) is None  # released: nothing more is opened


def test_a_streaming_read_has_its_cache_file_read_ahead_and_a_random_one_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    advised: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "posix_fadvise", lambda fd, start, n, advice: advised.append((start, n)))
    (tmp_path / "chunk").write_bytes(b"x")
    fds = fd_reads.ChunkFds()
    f = fds.acquire(1, str(tmp_path / "chunk"))
    assert f is not None
    MiB, ahead = 1 << 20, fd_reads.READ_AHEAD_BYTES
    f.read_ahead(0, 4096, 4096)  # the whole file: nothing beyond to read ahead
    for pos in range(0, 8 * MiB, MiB):  # a stream from the file's start
        f.read_ahead(pos, MiB, 16 * MiB)
    f.read_ahead(100 * MiB, 4096, 128 * MiB)  # a random read far beyond: no advice
    for _ in range(200):
        if len(advised) >= 2 and f.users == 1:
            break
        time.sleep(0.01)
    assert advised == [(MiB, ahead), (MiB + ahead, ahead)]
    assert f.users == 1  # the read-ahead thread gave back what it held
    fd_reads.release([f])
    fds.close()
