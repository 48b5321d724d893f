"""The FUSE layer only translates: names to bytes and back, errors through one errno table."""

from __future__ import annotations

import ctypes
import errno
import logging
import threading

import mfusepy
import pytest

from fuse_mount import fuse_lib
from fuse_mount.cache.errors import CacheError, CacheFullError
from fuse_mount.errors import CorruptData, DiscUnavailable, NoAttribute, NotFound, ReadOnly
from fuse_mount.fuse_ops import FuseOps
from fuse_mount.vfs import Attr


class StubVfs:
    """Records the paths it is given; raises what the test asks for."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error
        self.paths: list[bytes] = []

    def _maybe_raise(self, path: bytes) -> None:
        self.paths.append(path)
        if self.error is not None:
            raise self.error

    def getattr(self, path: bytes) -> Attr:
        self._maybe_raise(path)
        return Attr(7, 0o100644, 1, 0, 0, 3, 1_500_000_000_123_456_789, 1_600_000_000_000_000_001)

    def readdir_attrs(self, path: bytes):
        self._maybe_raise(path)
        yield b".", (1, 0o040000)
        yield b"caf\xe9", Attr(9, 0o100644, 1, 0, 0, 3, 1_500_000_000_123_456_789, 1_600_000_000_000_000_001)

    def read(self, fh: int, size: int, offset: int) -> bytes:
        self._maybe_raise(b"")
        return b"abc"[offset : offset + size]

    def getxattr(self, path: bytes, name: str) -> bytes:
        self._maybe_raise(path)
        return b"x"

    acls = False

    def answers_acls(self) -> bool:
        return self.acls

    def refuse_write(self, path: bytes) -> None:
        self.paths.append(path)
        raise ReadOnly("read-only")


def _errno(call) -> int:
    with pytest.raises(mfusepy.FuseOSError) as e:
        call()
    return e.value.errno


def test_paths_round_trip_as_bytes_and_attributes_carry_nanoseconds() -> None:
    vfs = StubVfs()
    ops = FuseOps(vfs)  # type: ignore[arg-type]
    bad = b"/caf\xe9".decode("utf-8", "surrogateescape")  # how mfusepy hands a non-UTF-8 name
    st = ops.getattr(bad)
    assert vfs.paths == [b"/caf\xe9"]
    assert st["st_mtime"] == 1_500_000_000_123_456_789 and st["st_ino"] == 7 and st["st_size"] == 3
    assert st["st_ctime"] == 1_600_000_000_000_000_001
    listing = list(ops.readdir("/", 0))
    assert listing[1][0].encode("utf-8", "surrogateescape") == b"caf\xe9"
    assert listing[0][1] == {"st_mode": 0o040000, "st_ino": 1}  # a directory: mode and inode only
    assert listing[1][1] == st | {"st_ino": 9}  # a file: every attribute, for readdirplus


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (NotFound("x"), errno.ENOENT),
        (ReadOnly("x"), errno.EROFS),
        (DiscUnavailable("disc 3"), errno.EIO),
        (CorruptData("x"), errno.EIO),
        (NoAttribute("x"), errno.ENODATA),
        (CacheFullError("cache disk full"), errno.ENOSPC),
        (CacheError("index broken"), errno.EIO),
    ],
)
def test_one_errno_table(error: BaseException, code: int) -> None:
    ops = FuseOps(StubVfs(error))  # type: ignore[arg-type]
    assert _errno(lambda: ops.getattr("/a")) == code
    assert _errno(lambda: ops.read("/a", 10, 0, 1)) == code


def test_every_change_is_erofs() -> None:
    vfs = StubVfs()
    ops = FuseOps(vfs)  # type: ignore[arg-type]
    calls = [
        lambda: ops.mkdir("/d", 0o755),
        lambda: ops.unlink("/a"),
        lambda: ops.rmdir("/d"),
        lambda: ops.rename("/a", "/b"),
        lambda: ops.chmod("/a", 0o777),
        lambda: ops.chown("/a", 1, 1),
        lambda: ops.truncate("/a", 0),
        lambda: ops.write("/a", b"x", 0, 1),
        lambda: ops.create("/n", 0o644),
        lambda: ops.setxattr("/a", "user.x", b"1", 0),
        lambda: ops.removexattr("/a", "user.x"),
        lambda: ops.symlink("/l", "t"),
        lambda: ops.link("/h", "/a"),
        lambda: ops.utimens("/a", None),
        lambda: ops.mknod("/f", 0o644, 0),
    ]
    assert [_errno(c) for c in calls] == [errno.EROFS] * len(calls)


def test_cache_errors_are_expected_not_logged_as_bugs(caplog: pytest.LogCaptureFixture) -> None:
    ops = FuseOps(StubVfs(CacheFullError("cache disk full")))  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="odarchive.mount"):
        assert _errno(lambda: ops.read("/a", 10, 0, 1)) == errno.ENOSPC
    assert "unexpected" not in caplog.text.lower()


def test_unexpected_exception_is_eio_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    ops = FuseOps(StubVfs(ZeroDivisionError("bug")))  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="odarchive.mount"):
        assert _errno(lambda: ops.getxattr("/a", "user.odarchive.sha256")) == errno.EIO
    assert "getxattr" in caplog.text and "ZeroDivisionError" in caplog.text


def test_readdir_errors_are_translated_too() -> None:
    ops = FuseOps(StubVfs(NotFound("x")))  # type: ignore[arg-type]
    assert _errno(lambda: list(ops.readdir("/gone", 0))) == errno.ENOENT


def test_the_mount_runs_on_libfuse_3() -> None:
    """mfusepy prefers libfuse 2 when both are installed; fuse_lib makes it load libfuse 3."""
    from fuse_mount import fuse_lib

    assert fuse_lib.LIBFUSE_VERSION[0] == 3
    assert "libfuse3.so" in str(mfusepy._libfuse_path)
    fuse_lib.require_libfuse3()


def test_another_libfuse_is_refused_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from fuse_mount import fuse_lib

    monkeypatch.setattr(fuse_lib, "LIBFUSE_VERSION", (2, 9))
    with pytest.raises(fuse_lib.LibfuseError, match=r"needs libfuse 3, but mfusepy loaded libfuse 2\.9"):
        fuse_lib.require_libfuse3()


def test_foreign_xattr_namespaces_are_unsupported_so_ls_stops_asking() -> None:
    """`ls -l` asks security.selinux and system.posix_acl_access of every file unless told
    ENOTSUP once; ENODATA would cost two round trips per file."""
    vfs = StubVfs()
    ops = FuseOps(vfs)  # type: ignore[arg-type]
    assert _errno(lambda: ops.getxattr("/a", "security.selinux")) == errno.ENOTSUP
    assert _errno(lambda: ops.getxattr("/a", "system.posix_acl_access")) == errno.ENOTSUP  # none archived
    assert vfs.paths == []  # answered without the model
    assert ops.getxattr("/a", "user.odarchive.sha256") == b"x"
    vfs.acls = True  # the archive holds ACLs: asked of the model (ENODATA where a file has none)
    assert ops.getxattr("/a", "system.posix_acl_access") == b"x"
    assert _errno(lambda: ops.getxattr("/a", "security.selinux")) == errno.ENOTSUP


def test_a_thread_s_python_state_is_kept_once_and_for_at_most_the_pool_s_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`ThreadStates.keep` takes one PyGILState hold per thread, never more, and only for the
    first `limit` threads (a pool that ended and started threads leaves at most `limit`)."""
    holds: list[str] = []  # thread names: an ended thread's ident is often given to the next one
    monkeypatch.setattr(fuse_lib, "_gil_ensure", lambda: holds.append(threading.current_thread().name))
    states = fuse_lib.ThreadStates(limit=2)

    def calls() -> None:
        for _ in range(5):
            states.keep()

    for _ in range(4):
        t = threading.Thread(target=calls)
        t.start()
        t.join()
    assert len(holds) == 2 and len(set(holds)) == 2  # one hold for each of the first two threads
    assert states.left == 0


class ListingOps:
    """readdir_rows of a directory of `n` files, counted; the listing key carries a version."""

    def __init__(self, n: int) -> None:
        self.n, self.version, self.reads = n, 1, 0

    def listing_key(self, path: bytes) -> tuple[bytes, int]:
        return path, self.version

    def readdir_rows(self, path: bytes, fh: int):
        self.reads += 1
        yield b".", (1, 0o040000)
        for i in range(self.n):
            yield b"f%d.v%d" % (i, self.version), (100 + i, 0o100644, 1, 0, 0, i, 10**18, 10**18)


def _list(fuse: fuse_lib.OdarchiveFUSE, room: int = 7) -> list[tuple[bytes, int, int]]:
    """A whole listing the way libfuse asks for it: replies of `room` entries, each resuming
    at the offset of the last entry the previous one took; (name, inode, size) of each."""
    got: list[tuple[bytes, int, int]] = []
    taken = 0

    def filler(buf, name, st, off, flags):  # libfuse's filler: says "full" after `room` entries
        nonlocal taken
        if taken == room:
            return 1
        s = ctypes.cast(st, ctypes.POINTER(mfusepy.c_stat)).contents
        got.append((name, s.st_ino, s.st_size if flags else -1))
        taken += 1
        return 0

    c_filler = mfusepy.fuse_fill_dir_t(filler)
    fi = mfusepy.fuse_file_info(fh=1)
    while True:
        before, taken = len(got), 0
        fuse.readdir_fuse_3(b"/d", None, c_filler, len(got), ctypes.pointer(fi), fuse_lib.FUSE_READDIR_PLUS)
        if len(got) == before:
            return got


def test_a_listing_read_whole_is_listed_again_from_its_packed_copy_until_the_catalogue_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ops = ListingOps(20)
    fuse = fuse_lib.OdarchiveFUSE.__new__(fuse_lib.OdarchiveFUSE)
    fuse.operations = ops
    fuse._listings, fuse._listings_lock = {}, threading.Lock()
    fuse._packed, fuse._packed_entries = fuse_lib.OrderedDict(), 0
    first = _list(fuse)
    assert [n for n, _, _ in first] == [b"."] + [b"f%d.v1" % i for i in range(20)]
    assert first[5] == (b"f4.v1", 104, 4) and first[0] == (b".", 1, -1)  # attributes with plus, dots without
    assert _list(fuse, room=3) == first and ops.reads == 1  # again, in other replies: from the packed copy
    ops.version = 2  # a catalogue change: a new key, read again
    assert [n for n, _, _ in _list(fuse)][1] == b"f0.v2" and ops.reads == 2
    monkeypatch.setattr(fuse_lib, "PACKED_LISTING_MAX", 10)  # too large to keep: read each time
    big = ListingOps(20)
    big.version = 3
    fuse.operations = big
    assert _list(fuse) == _list(fuse) and big.reads == 2
