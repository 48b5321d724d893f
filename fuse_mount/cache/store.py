"""Chunk files on disk: where they live, how they are written, and verified reads.

Layout under the cache directory: `data/<key[:2]>/<key>.<idx>` for chunk idx and
`data/<key[:2]>/<key>.head` for the head; `tmp/<pid>-<random>` holds files being written
(those of dead processes are removed when the cache opens). A file is written to `tmp/` outside any lock and renamed into place by the
cache once its index row exists, so a crash leaves at worst a row whose file is missing,
which the next read notices and drops (a miss, never wrong data). No fsync: a torn file after
a power cut fails its hash on read and is fetched again.

Every file's bytes are verified against the SHA-256 digests recorded in the index: one per
1 MiB block, or for a chunk the catalogue's own chunk hash verified when it was fetched, the
one SHA-256 of the whole file (`hashes` is then a single digest: hashing each block as well
would be a second pass over every byte fetched, a third of the fetch's CPU; a file of one
block has the one digest either way). Hashing on every read would cap cached reads at the
hash rate divided by the read amplification, so a block verified once is remembered
(`VerifiedMemo`) together with the file's (inode, size, mtime, ctime): any write to the file,
or replacing it, changes that signature and the block is hashed again on its next read (for a
whole-file digest, the whole file: 16 MiB, ~10 ms, once after each restart of the mount).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import uuid
from collections import OrderedDict
from pathlib import Path

from fuse_mount.cache.pids import pid_alive

BLOCK_BYTES = 1024 * 1024
DIGEST_BYTES = 32

Signature = tuple[int, int, int, int]


class Gone(Exception):
    """The file of a recorded chunk is missing (evicted by another process, or a crash)."""


class Corrupt(Exception):
    """The file's size or bytes do not match the index."""


def block_hashes(data: bytes | memoryview) -> bytes:
    """The SHA-256 digests of each BLOCK_BYTES block of `data`, concatenated."""
    view = memoryview(data)
    return b"".join(hashlib.sha256(view[i : i + BLOCK_BYTES]).digest() for i in range(0, len(view), BLOCK_BYTES))


WRITE_PIECE = 256 * 1024
"""A hashed write takes its bytes in pieces this large: each is hashed, then written while it
is still in the CPU's cache (measured: a 16 MiB chunk hashed, then written whole, read it
from memory twice)."""


def _write_all(fd: int, data: bytes | memoryview, hashed: bool = False) -> bytes | None:
    """Write everything; with `hashed`, return the SHA-256 of it (a separate function so tests
    can inject ENOSPC)."""
    view = memoryview(data)
    digest = hashlib.sha256() if hashed else None
    for at in range(0, len(view), WRITE_PIECE if hashed else max(1, len(view))):
        piece = view[at : at + WRITE_PIECE] if hashed else view
        if digest is not None:
            digest.update(piece)
        while piece:
            piece = piece[os.write(fd, piece) :]
    return digest.digest() if digest is not None else None


class VerifiedMemo:
    """Which blocks of which chunk files have been verified, bounded, with its own leaf lock."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        self._lock = threading.Lock()
        self._seen: OrderedDict[tuple[int, int], Signature] = OrderedDict()
        self._capacity = capacity

    def verified(self, rowid: int, block: int, sig: Signature) -> bool:
        with self._lock:
            if self._seen.get((rowid, block)) != sig:
                return False
            self._seen.move_to_end((rowid, block))
            return True

    def remember(self, rowid: int, blocks: range, sig: Signature) -> None:
        with self._lock:
            for block in blocks:
                self._seen[(rowid, block)] = sig
                self._seen.move_to_end((rowid, block))
            while len(self._seen) > self._capacity:
                self._seen.popitem(last=False)


class Store:
    def __init__(self, root: Path) -> None:
        self.data = root / "data"
        self._data = str(self.data)
        self.tmp = root / "tmp"
        self.memo = VerifiedMemo()

    def prepare(self) -> None:
        """Create the directories; remove files half-written by processes that died."""
        self.data.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        for f in os.scandir(self.tmp):
            pid = f.name.partition("-")[0]
            if not (pid.isdigit() and pid_alive(int(pid))):
                os.unlink(f.path)

    def path(self, key: str, idx: int) -> str:
        return f"{self._data}/{key[:2]}/{key}.{'head' if idx < 0 else idx}"  # a str: cheaper than Path on every read

    def write_tmp(self, data: bytes | memoryview, hashed: bool = False) -> tuple[Path, bytes | None]:
        """Write `data` to a new file in tmp/ (and its SHA-256 if `hashed`, taken as it is
        written); on any OSError the partial file is removed."""
        tmp = self.tmp / f"{os.getpid()}-{uuid.uuid4().hex}"  # another process's open leaves it alone
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            digest = _write_all(fd, data, hashed)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        os.close(fd)
        return tmp, digest

    def install(self, tmp: Path, key: str, idx: int, rowid: int, nbytes: int) -> None:
        """Move a written file into place and remember its blocks as verified."""
        final = self.path(key, idx)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        os.replace(tmp, final)
        st = os.stat(final)
        self.memo.remember(rowid, range((nbytes + BLOCK_BYTES - 1) // BLOCK_BYTES), signature(st))

    def remove(self, key: str, idx: int) -> None:
        try:
            os.unlink(self.path(key, idx))
        except FileNotFoundError:
            pass

    def remove_strays(self, known: set[tuple[str, int]]) -> int:
        """Unlink files under data/ that are not `known` (key, idx) pairs; returns their bytes.

        Strays are left by a crash between an eviction's commit and its unlink."""
        freed = 0
        for sub in os.scandir(self._data):
            if not sub.is_dir():
                continue
            for f in os.scandir(sub.path):
                key, _, suffix = f.name.partition(".")
                idx = -1 if suffix == "head" else int(suffix) if suffix.isdigit() else None
                if (key, idx) not in known:
                    freed += f.stat().st_size
                    os.unlink(f.path)
        return freed

    def remove_all(self) -> None:
        shutil.rmtree(self.data, ignore_errors=True)
        self.data.mkdir(parents=True, exist_ok=True)

    def read(
        self, key: str, idx: int, rowid: int, length: int, hashes: bytes, start: int, n: int, force: bool = False
    ) -> bytes:
        """Bytes [start, start+n) of a chunk file of `length` bytes, every block verified
        (hashed unless the memo knows this version of the file; always if `force`).

        Raises Gone if the file is missing, Corrupt if its size or a block's hash is wrong.
        """
        try:
            fd = os.open(self.path(key, idx), os.O_RDONLY)
        except FileNotFoundError:
            raise Gone(key) from None
        try:
            st = os.fstat(fd)
            blocks = (length + BLOCK_BYTES - 1) // BLOCK_BYTES
            whole = len(hashes) == DIGEST_BYTES  # one digest of the whole file (block-wise if one block)
            if st.st_size != length or not (whole or len(hashes) == DIGEST_BYTES * blocks):
                raise Corrupt(f"{key}.{idx}: {st.st_size} bytes on disk, {length} recorded")
            if n <= 0:
                return b""
            sig = signature(st)
            first, last = start // BLOCK_BYTES, (start + n - 1) // BLOCK_BYTES
            todo = [b for b in range(first, last + 1) if force or not self.memo.verified(rowid, b, sig)]
            if not todo:
                return _exact(os.pread(fd, n, start), n, key, idx)
            if whole:
                todo = list(range(blocks))  # the digest covers the whole file: read and hash it all
            lo = todo[0] * BLOCK_BYTES
            hi = min((todo[-1] + 1) * BLOCK_BYTES, length)
            lo, hi = min(lo, start), max(hi, start + n)
            span = os.pread(fd, hi - lo, lo)
            view = memoryview(span)
            if whole:
                if hashlib.sha256(view).digest() != hashes:
                    raise Corrupt(f"{key}.{idx}: does not match its SHA-256")
            else:
                for b in todo:
                    block = view[b * BLOCK_BYTES - lo : min((b + 1) * BLOCK_BYTES, length) - lo]
                    if hashlib.sha256(block).digest() != hashes[b * DIGEST_BYTES : (b + 1) * DIGEST_BYTES]:
                        raise Corrupt(f"{key}.{idx}: block {b} does not match its SHA-256")
            self.memo.remember(rowid, range(todo[0], todo[-1] + 1), sig)
            return _exact(bytes(view[start - lo : start - lo + n]), n, key, idx)
        finally:
            os.close(fd)


def _exact(data: bytes, n: int, key: str, idx: int) -> bytes:
    if len(data) != n:  # the file shrank under us
        raise Corrupt(f"{key}.{idx}: short read")
    return data


def signature(st: os.stat_result) -> Signature:
    """What changes whenever a file is written or replaced (the memo's proof of a version)."""
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
