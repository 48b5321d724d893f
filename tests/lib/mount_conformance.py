"""One conformance suite for the mount, run in-process (against `Vfs`) and through a kernel mount.

A test module subclasses `ConformanceSuite` and provides two fixtures: `archive` (a
`tests.lib.mount_archive.Archive`) and `fs` (an `FsClient` over a mount of it with an empty
cache). `VfsClient` drives the model directly and turns its errors into OSError through the
same errno table as the FUSE layer; `tests/mount/` has the client that uses the kernel.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from fuse_mount import fd_reads
from fuse_mount.cache import Cache, CacheConfig
from fuse_mount.discs import ImageDirSource
from fuse_mount.errors import errno_of
from fuse_mount.service import ArchiveService, MountConfig
from fuse_mount.vfs import Vfs
from odarchive.app.mount_adapter import CatalogueAdapter
from tests.lib.mount_archive import BAD_NAME, CHUNK, Archive

WRITE_OPS = ("write", "create", "mkdir", "unlink", "rename", "chmod", "truncate", "setxattr", "symlink", "rmdir")


@dataclass(frozen=True)
class Stat:
    mode: int
    size: int
    mtime_ns: int
    nlink: int
    ino: int
    uid: int
    gid: int
    ctime_ns: int


class FsClient(Protocol):
    def listdir(self, path: bytes) -> list[bytes]: ...
    def lstat(self, path: bytes) -> Stat: ...
    def readlink(self, path: bytes) -> bytes: ...
    def read(self, path: bytes, offset: int = 0, size: int = -1) -> bytes: ...
    def getxattr(self, path: bytes, name: str) -> bytes: ...
    def listxattr(self, path: bytes) -> list[str]: ...
    def try_write(self, op: str, path: bytes) -> int:
        """Attempt a change; the errno it failed with, 0 if it succeeded."""

    def disc_loads(self) -> int: ...
    def statvfs(self) -> tuple[int, int, int]:
        """(block size, blocks, entries) as `df` and `df -i` see them."""


def read_parts(vfs: Vfs, fh: int, size: int, offset: int) -> bytes:
    """`Vfs.read_parts` as libfuse serves it: the bytes, or each piece read from its cache
    file; then the calling thread's lease on those files ends (as at its next read_buf)."""
    parts = vfs.read_parts(fh, size, offset)
    try:
        if isinstance(parts, bytes):
            return parts
        return b"".join(os.pread(p.fd, p.size, p.pos) for p in parts)
    finally:
        fd_reads.end_lease()


def images_service(archive: Archive, cache_dir: Path) -> ArchiveService:
    """The mount's parts in-process over `archive`'s catalogue and images (two drives), with a
    fresh cache in `cache_dir` that keeps nothing back (no heads, no free-space floor)."""
    cache = Cache.open(CacheConfig(cache_dir, chunk_bytes=CHUNK, keep_heads_bytes=0, min_free_bytes=0))
    return ArchiveService(
        CatalogueAdapter(archive.catalogue),
        ImageDirSource(archive.images, drives=2),
        cache,
        MountConfig(disc_timeout_s=10, gather_s=0.05, whole_max_bytes=2 * CHUNK),
    )


class VfsClient:
    """The model called directly; errors become OSError through `fuse_mount.errors.errno_of`."""

    def __init__(self, service: ArchiveService) -> None:
        self.service = service
        self.vfs = service.vfs

    def _call(self, fn: Callable, *args):
        try:
            return fn(*args)
        except Exception as e:
            code = errno_of(e)
            raise OSError(code or errno.EIO, str(e)) from None

    def listdir(self, path: bytes) -> list[bytes]:
        return [n for n, _, _ in self._call(lambda: list(self.vfs.readdir(path))) if n not in (b".", b"..")]

    def lstat(self, path: bytes) -> Stat:
        a = self._call(self.vfs.getattr, path)
        return Stat(a.mode, a.size, a.mtime_ns, a.nlink, a.ino, a.uid, a.gid, a.ctime_ns)

    def readlink(self, path: bytes) -> bytes:
        return self._call(self.vfs.readlink, path)

    def read(self, path: bytes, offset: int = 0, size: int = -1) -> bytes:
        """Read as the mount serves it: `Vfs.read_parts` (libfuse's read_buf), the pieces of
        cache files read as libfuse reads them (`read_parts`)."""
        fh = self._call(self.vfs.open, path, os.O_RDONLY)
        try:
            if size >= 0:
                return self._call(read_parts, self.vfs, fh, size, offset)
            parts = []
            while True:
                block = self._call(read_parts, self.vfs, fh, 131072, offset)
                if not block:
                    return b"".join(parts)
                parts.append(block)
                offset += len(block)
        finally:
            self.vfs.release(fh)

    def getxattr(self, path: bytes, name: str) -> bytes:
        return self._call(self.vfs.getxattr, path, name)

    def listxattr(self, path: bytes) -> list[str]:
        return self._call(self.vfs.listxattr, path)

    def try_write(self, op: str, path: bytes) -> int:
        try:
            if op in ("write", "truncate"):
                self._call(self.vfs.open, path, os.O_WRONLY)
            elif op == "create":
                self._call(self.vfs.open, path + b".new", os.O_WRONLY | os.O_CREAT)
            else:
                self._call(self.vfs.refuse_write, path)
        except OSError as e:
            return e.errno or 0
        return 0

    def disc_loads(self) -> int:
        return len(self.service.fetcher.loads)

    def statvfs(self) -> tuple[int, int, int]:
        s = self._call(self.vfs.statfs)
        return s["f_frsize"], s["f_blocks"], s["f_files"]


def expected_tree(src: Path) -> dict[bytes, os.stat_result]:
    """Archived path (b'src/...') -> lstat of every entry of the source tree."""
    root = os.fsencode(src)
    name = os.path.basename(root)
    out = {name: os.lstat(root)}
    for dirpath, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(dirpath, n)
            out[name + p[len(root) :]] = os.lstat(p)
    return out


def walk(fs: FsClient, top: bytes) -> set[bytes]:
    """Every path below `top` (relative to /), by listing directories."""
    out = set()
    stack = [top]
    while stack:
        d = stack.pop()
        out.add(d.lstrip(b"/"))
        for name in fs.listdir(d):
            p = d + b"/" + name
            if stat.S_ISDIR(fs.lstat(p).mode):
                stack.append(p)
            else:
                out.add(p.lstrip(b"/"))
    return out


class ConformanceSuite:
    def test_top_level_shows_roots_and_snapshots(self, fs: FsClient) -> None:
        assert sorted(fs.listdir(b"/")) == [b".snapshots", b"src"]
        assert sorted(fs.listdir(b"/.snapshots")) == [b"1", b"2"]
        assert fs.listdir(b"/.snapshots/1") == [b"src"]
        assert stat.S_ISDIR(fs.lstat(b"/.snapshots/2/src").mode)

    def test_listing_matches_source_and_catalogue(self, fs: FsClient, archive: Archive) -> None:
        expected = set(expected_tree(archive.src))
        assert walk(fs, b"/src") == expected
        from odarchive.catalogue import Catalogue, tree

        with Catalogue.open(archive.catalogue, readonly=True) as cat:
            [(source, snap)] = cat.latest_snapshots()
            assert {p for p, _ in tree.walk(cat, source, snap.id)} == expected

    def test_attributes_match_source(self, fs: FsClient, archive: Archive) -> None:
        tree = expected_tree(archive.src)
        inodes = set()
        for path, st in tree.items():
            got = fs.lstat(b"/" + path)
            assert got.mode == st.st_mode, path
            assert got.mtime_ns == st.st_mtime_ns, path
            assert (got.uid, got.gid, got.ctime_ns) == (st.st_uid, st.st_gid, st.st_ctime_ns), path  # as archived
            assert got.nlink == 1, path  # no hard links here; directories: not counted
            if not stat.S_ISDIR(st.st_mode):
                assert got.size == st.st_size, path
            inodes.add(got.ino)
        assert len(inodes) == len(tree), "inode numbers are unique"
        assert fs.lstat(b"/src/run.sh").mtime_ns == 1_500_000_000_123_456_789

    def test_inode_numbers_are_stable(self, fs: FsClient) -> None:
        assert fs.lstat(b"/src/photos/img001.jpg").ino == fs.lstat(b"/src/photos/img001.jpg").ino
        assert fs.lstat(b"/src/run.sh").ino != fs.lstat(b"/.snapshots/2/src/run.sh").ino

    def test_symlinks(self, fs: FsClient) -> None:
        assert fs.readlink(b"/src/link-to-hello") == b"hello.txt"
        assert fs.readlink(b"/src/dangling") == b"no/such/target"
        assert stat.S_ISLNK(fs.lstat(b"/src/dangling").mode)

    def test_empty_directory_and_file(self, fs: FsClient) -> None:
        assert fs.listdir(b"/src/empty-dir") == []
        assert fs.read(b"/src/empty.txt") == b""

    def test_name_that_is_not_utf8_round_trips(self, fs: FsClient, archive: Archive) -> None:
        assert BAD_NAME in fs.listdir(b"/src")
        assert fs.read(b"/src/" + BAD_NAME) == open(os.path.join(os.fsencode(archive.src), BAD_NAME), "rb").read()

    def test_every_file_reads_back_identical(self, fs: FsClient, archive: Archive) -> None:
        for path, st in expected_tree(archive.src).items():
            if stat.S_ISREG(st.st_mode):
                source = os.path.join(os.fsencode(archive.src.parent), path)
                assert fs.read(b"/" + path) == open(source, "rb").read(), path

    def test_partial_reads_across_chunks_pieces_and_extents(self, fs: FsClient, archive: Archive) -> None:
        data = (archive.src / "big.bin").read_bytes()
        half = len(data) // 2
        for offset, size in (
            (0, 10),
            (CHUNK - 5, 10),
            (half - 100, 200),
            (half + (len(data) - half) // 2 - 3, 7),
            (len(data) - 10, 100),
            (len(data) + 5, 10),
            (3 * CHUNK, 2 * CHUNK),
        ):
            assert fs.read(b"/src/big.bin", offset, size) == data[offset : offset + size], (offset, size)

    def test_snapshots_keep_old_versions(self, fs: FsClient, archive: Archive) -> None:
        assert fs.read(b"/.snapshots/1/" + archive.changed) == archive.old_bytes
        assert fs.read(b"/" + archive.changed) == (archive.src / "hello.txt").read_bytes()
        assert fs.read(b"/.snapshots/2/" + archive.changed) == (archive.src / "hello.txt").read_bytes()

    def test_xattrs(self, fs: FsClient, archive: Archive) -> None:
        path = b"/src/photos/img003.jpg"
        data = (archive.src / "photos" / "img003.jpg").read_bytes()
        assert fs.listxattr(path) == ["user.comment"]  # the archived ones; the mount's own are not listed
        assert fs.getxattr(path, "user.comment") == b"kept as archived"
        assert fs.getxattr(path, "user.odarchive.sha256") == hashlib.sha256(data).hexdigest().encode()
        discs = {int(d) for d in fs.getxattr(path, "user.odarchive.discs").split(b",")}
        assert discs == archive.disc_of(b"photos/img003.jpg")
        assert len(fs.getxattr(b"/src/big.bin", "user.odarchive.discs").split(b",")) == 2
        assert fs.getxattr(path, "user.odarchive.cached") == b"no"
        fs.read(path)
        assert fs.getxattr(path, "user.odarchive.cached") == b"yes"
        with pytest.raises(OSError) as e:
            fs.getxattr(path, "user.nothing")
        assert e.value.errno == errno.ENODATA
        assert fs.listxattr(b"/src/photos") == []

    def test_missing_paths_are_enoent(self, fs: FsClient) -> None:
        for path in (
            b"/nope",
            b"/src/nope",
            b"/src/photos/nope.jpg",
            b"/.snapshots/99",
            b"/.snapshots/x",
            b"/.snapshots/1/other-root",
        ):
            with pytest.raises(OSError) as e:
                fs.lstat(path)
            assert e.value.errno == errno.ENOENT, path
        with pytest.raises(OSError) as e:
            fs.lstat(b"/src/hello.txt/below-a-file")
        assert e.value.errno in (errno.ENOTDIR, errno.ENOENT)

    def test_every_change_is_erofs(self, fs: FsClient) -> None:
        for op in WRITE_OPS:
            target = b"/src/photos" if op == "rmdir" else b"/src/hello.txt"
            assert fs.try_write(op, target) == errno.EROFS, op
        assert fs.read(b"/src/hello.txt").startswith(b"hello")

    def test_second_read_is_a_cache_hit_without_disc_load(self, fs: FsClient, archive: Archive) -> None:
        path = b"/src/photos/img007.jpg"
        first = fs.read(path)
        loads = fs.disc_loads()
        assert loads >= 1
        assert fs.read(path) == first
        assert fs.disc_loads() == loads

    def test_parallel_reads_load_each_disc_once(self, fs: FsClient, archive: Archive) -> None:
        names = [f"img{i:03d}.jpg" for i in range(16)]
        discs = set().union(*(archive.disc_of(b"photos/" + n.encode()) for n in names))
        assert len(discs) >= 5
        results: dict[str, bytes] = {}
        barrier = threading.Barrier(len(names))

        def reader(name: str) -> None:
            barrier.wait()
            results[name] = fs.read(b"/src/photos/" + name.encode())

        threads = [threading.Thread(target=reader, args=(n,)) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for n in names:
            assert results[n] == (archive.src / "photos" / n).read_bytes()
        assert fs.disc_loads() == len(discs), (fs.disc_loads(), len(discs))

    def test_df_shows_the_archive_size_and_its_entries(self, fs: FsClient, archive: Archive) -> None:
        from odarchive.catalogue import Catalogue, browse

        with Catalogue.open(archive.catalogue, readonly=True) as cat:
            nbytes, entries = browse.totals(cat.conn)
        frsize, blocks, files = fs.statvfs()
        assert blocks == -(-nbytes // frsize) and nbytes > 0
        assert files == entries > 40
