"""The FUSE operations: translate kernel calls to `Vfs` calls and errors to errno, nothing else.

mfusepy hands paths as str decoded with surrogateescape; they are encoded back to the exact
archived bytes here, so names that are not UTF-8 round-trip. Every call goes through
`_translate`, the one place where errors become errno (`fuse_mount.errors.errno_of`):
missing -> ENOENT, any write -> EROFS, disc unavailable or robot fault -> EIO, and any
unexpected exception -> EIO with a log line and traceback.

Threads: mfusepy runs multithreaded; every method may run on several threads at once. This
module keeps no state of its own.
"""

from __future__ import annotations

import errno
import logging
from typing import Any, Callable, Iterator, TypeVar

import mfusepy

from fuse_mount.errors import errno_of
from fuse_mount.vfs import Vfs

MAX_READ_BYTES = 1 << 20
"""The largest read the kernel sends (the mount option and init() must agree)."""
MAX_THREADS = 1024
"""libfuse's worker threads at most: its default of 10 let ten reads waiting for discs hold
up every other call (stat, listings, cached reads) until a disc came."""

log = logging.getLogger("odarchive.mount.fuse")
T = TypeVar("T")


def _b(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")


def _s(name: bytes) -> str:
    return name.decode("utf-8", "surrogateescape")


def _translate(what: str, path: str | None, call: Callable[[], T]) -> T:
    try:
        return call()
    except mfusepy.FuseOSError:
        raise
    except Exception as e:
        raise _fuse_error(what, path, e) from None


def _fuse_error(what: str, path: str | None, e: Exception) -> mfusepy.FuseOSError:
    """The errno for `e` (errors.errno_of), logging disc failures and unexpected errors."""
    code = errno_of(e)
    if code is None:
        code = errno.EIO
        log.error("unexpected error in %s(%r); returning EIO", what, path, exc_info=e)
    elif code == errno.EIO:
        log.warning("%s(%r): %s", what, path, e)
    return mfusepy.FuseOSError(code)


class FuseOps(mfusepy.Operations):
    use_ns = True

    def __init__(self, vfs: Vfs, on_ready: Callable[[], None] | None = None) -> None:
        self._vfs = vfs
        self._on_ready = on_ready

    def init_with_config(self, conn: Any, config: Any) -> None:
        # libfuse 3 refuses the session unless init() asks for the same max_read as the
        # mount option ("init() and fuse_session_new() requested different maximum read size")
        if conn is not None and hasattr(conn, "max_read"):
            conn.max_read = MAX_READ_BYTES
        if self._on_ready is not None:
            self._on_ready()

    def getattr(self, path: str, fh: int | None = None) -> dict[str, Any]:
        a = _translate("getattr", path, lambda: self._vfs.getattr(_b(path)))
        return {
            "st_ino": a.ino, "st_mode": a.mode, "st_nlink": a.nlink, "st_size": a.size,
            "st_mtime": a.mtime_ns, "st_ctime": a.mtime_ns, "st_atime": a.mtime_ns,
            "st_uid": a.uid, "st_gid": a.gid, "st_blocks": a.blocks, "st_blksize": 131072,
        }

    def readdir(self, path: str, fh: int) -> Iterator[tuple[str, dict[str, int], int]]:
        try:  # one translation around the whole listing: a directory may hold 100,000 names
            for name, mode, ino in self._vfs.readdir(_b(path)):
                yield name.decode("utf-8", "surrogateescape"), {"st_mode": mode, "st_ino": ino}, 0
        except Exception as e:
            raise _fuse_error("readdir", path, e) from None

    def readlink(self, path: str) -> str:
        return _s(_translate("readlink", path, lambda: self._vfs.readlink(_b(path))))

    def statfs(self, path: str) -> dict[str, int]:
        return _translate("statfs", path, self._vfs.statfs)

    def listxattr(self, path: str) -> list[str]:
        return _translate("listxattr", path, lambda: self._vfs.listxattr(_b(path)))

    def getxattr(self, path: str, name: str, position: int = 0) -> bytes:
        return _translate("getxattr", path, lambda: self._vfs.getxattr(_b(path), name))

    def open(self, path: str, flags: int) -> int:
        return _translate("open", path, lambda: self._vfs.open(_b(path), flags))

    def read(self, path: str | None, size: int, offset: int, fh: int) -> bytes:
        return _translate("read", path, lambda: self._vfs.read(fh, size, offset))

    def release(self, path: str | None, fh: int) -> int:
        _translate("release", path, lambda: self._vfs.release(fh))
        return 0

    # ---- every change is refused with EROFS ----
    def _refuse(self, path: str | None, *_: Any) -> int:
        return _translate("write", path, lambda: self._vfs.refuse_write(_b(path or "/")))

    def create(self, path: str, mode: int, fi: Any = None) -> int:
        return self._refuse(path)

    def write(self, path: str | None, data: bytes, offset: int, fh: int) -> int:
        return self._refuse(path)

    def truncate(self, path: str | None, length: int, fh: int | None = None) -> int:
        return self._refuse(path)

    def symlink(self, target: str, source: str) -> int:
        return self._refuse(target)

    def link(self, target: str, source: str) -> int:
        return self._refuse(target)

    def rename(self, old: str, new: str) -> int:
        return self._refuse(old)

    mkdir = unlink = rmdir = chmod = chown = utimens = setxattr = removexattr = mknod = _refuse




def serve(
    vfs: Vfs, mountpoint: str, *, allow_other: bool = False, attr_timeout_s: float = 1.0, on_ready: Callable[[], None] | None = None
) -> None:
    """Mount `vfs` read-only at `mountpoint` and serve it until unmounted.

    libfuse starts a thread per request waiting, up to MAX_THREADS (see the test with 40
    reads stuck on a disc), so reads waiting for discs never hold up stat or cached reads."""
    options: dict[str, Any] = {
        "ro": True, "fsname": "odarchive", "subtype": "odarchive", "use_ino": True, "default_permissions": True,
        "kernel_cache": True, "max_read": MAX_READ_BYTES, "max_threads": MAX_THREADS, "attr_timeout": attr_timeout_s,
        "entry_timeout": attr_timeout_s, "negative_timeout": attr_timeout_s,
    }
    if allow_other:
        options["allow_other"] = True
    mfusepy.FUSE(FuseOps(vfs, on_ready), mountpoint, foreground=True, nothreads=False, **options)
