"""The FUSE operations: translate kernel calls to `Vfs` calls and errors to errno, nothing else.

mfusepy hands paths as str decoded with surrogateescape; they are encoded back to the exact
archived bytes here, so names that are not UTF-8 round-trip. Every call goes through
`_translate`, the one place where errors become errno (`fuse_mount.errors.errno_of`):
missing -> ENOENT, any write -> EROFS, disc unavailable or robot fault -> EIO, and any
unexpected exception -> EIO with a log line and traceback.

Reads the kernel may cache: `keep_cache` per open (`Vfs.page_cache`), names and attributes
for `attr_timeout_s`; when the tree shown changes (a snapshot completed), `serve`'s watcher
tells the kernel to forget every top-level name and what it cached below, so nothing stale is
served past `refresh_s` (see `fuse_mount.fuse_lib` for what libfuse is asked for and why).

Threads: mfusepy runs multithreaded; every method may run on several threads at once. This
module keeps no state of its own beyond the watcher thread of `serve`.
"""

from __future__ import annotations

import errno
import itertools
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from fuse_mount.errors import errno_of
from fuse_mount.fd_reads import Piece
from fuse_mount.fuse_lib import BLKSIZE, OdarchiveFUSE, keep_read_buffers, mfusepy
from fuse_mount.prefetch import KernelPrefetcher
from fuse_mount.vfs import Attr, Vfs

USER_XATTRS = "user."
ACL_XATTRS = ("system.posix_acl_access", "system.posix_acl_default")
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


def _attrs(a: Attr) -> dict[str, Any]:
    return {
        "st_ino": a.ino,
        "st_mode": a.mode,
        "st_nlink": a.nlink,
        "st_size": a.size,
        "st_mtime": a.mtime_ns,
        "st_ctime": a.ctime_ns,
        "st_atime": a.mtime_ns,
        "st_uid": a.uid,
        "st_gid": a.gid,
        "st_blocks": a.blocks,
        "st_blksize": BLKSIZE,
    }


class FuseOps(mfusepy.Operations):
    use_ns = True

    def __init__(self, vfs: Vfs) -> None:
        self._vfs = vfs
        self._dir_handles = itertools.count(1)

    def opendir(self, path: str) -> int:
        """A handle per open directory: `OdarchiveFUSE` streams each one's listing by it."""
        return next(self._dir_handles)

    def releasedir(self, path: str | None, fh: int) -> int:
        return 0

    def getattr(self, path: str, fh: int | None = None) -> dict[str, Any]:
        return _attrs(self.getattr_row(_b(path)))

    def getattr_row(self, path: bytes) -> Attr:
        """`getattr` as a `fuse_lib.STAT_ROW` tuple (what `OdarchiveFUSE` fills the stat from);
        `_translate` written out: this is the call of every lookup."""
        try:
            return self._vfs.getattr(path)
        except Exception as e:
            raise _fuse_error("getattr", _s(path), e) from None

    def readdir(self, path: str, fh: int) -> Iterator[tuple[str, dict[str, Any], int]]:
        """fusepy's readdir: every entry with its attributes as a dict (`readdir_rows` is what
        `OdarchiveFUSE` calls)."""
        for name, row in self.readdir_rows(_b(path), fh):
            yield _s(name), _attrs(Attr(*row)) if len(row) > 2 else {"st_ino": row[0], "st_mode": row[1]}, 0

    def readdir_rows(self, path: bytes, fh: int) -> Iterator[tuple[bytes, tuple[int, ...]]]:
        """(name, `fuse_lib.STAT_ROW` tuple, or (inode, mode) only) of every entry, names as
        bytes: the attributes go to the kernel with readdirplus, no dict per entry."""
        try:  # one translation around the whole listing: a directory may hold 100,000 names
            yield from self._vfs.readdir_attrs(path)
        except Exception as e:
            raise _fuse_error("readdir", _s(path), e) from None

    def listing_key(self, path: bytes) -> tuple[bytes, int | None]:
        """What a listing of `path` shows depends on: the path and the catalogue's version
        (`Vfs.generation`: any commit makes a new one, so a kept listing is never stale)."""
        return b"/" + path.strip(b"/"), self._vfs.generation()

    def readlink(self, path: str) -> str:
        return _s(_translate("readlink", path, lambda: self._vfs.readlink(_b(path))))

    def statfs(self, path: str) -> dict[str, int]:
        return _translate("statfs", path, self._vfs.statfs)

    def listxattr(self, path: str) -> list[str]:
        return _translate("listxattr", path, lambda: self._vfs.listxattr(_b(path)))

    def getxattr(self, path: str, name: str, position: int = 0) -> bytes:
        if not (name.startswith(USER_XATTRS) or (name in ACL_XATTRS and self._vfs.answers_acls())):
            # security.*, trusted.* (never archived), ACLs when none is archived: not supported
            # (ENOTSUP, not ENODATA), which tells `ls -l` to stop asking for every file of the
            # mount: two round trips per file saved
            raise mfusepy.FuseOSError(errno.ENOTSUP)
        return _translate("getxattr", path, lambda: self._vfs.getxattr(_b(path), name))

    def open(self, path: str, flags: int) -> int:
        return _translate("open", path, lambda: self._vfs.open(_b(path), flags))

    def page_cache(self, fh: int) -> tuple[bool, bool]:
        return self._vfs.page_cache(fh)

    def read(self, path: str | None, size: int, offset: int, fh: int) -> bytes:
        return _translate("read", path, lambda: self._vfs.read(fh, size, offset))

    def read_buf(self, path: str | None, size: int, offset: int, fh: int) -> list[Piece] | bytes:
        """`read` as libfuse's read_buf takes it (`OdarchiveFUSE.read_buf`): pieces of the
        cache's verified files, or the bytes (`Vfs.read_parts`)."""
        return _translate("read", path, lambda: self._vfs.read_parts(fh, size, offset))

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


READ_AHEAD_KIB = 4096
"""The mount's read-ahead window (`/sys/class/bdi/<dev>/read_ahead_kb`; the kernel's 128 KiB
default makes a cached sequential read a chain of 128 KiB requests: see BENCHMARKS.md)."""
SPLICE_REQUEST_BYTES = 250 * 4096
"""The largest request the kernel sends (libfuse makes max_pages of max_write): with the reply's
header pages it fits a pipe of 1 MiB, the most `F_SETPIPE_SZ` gives without CAP_SYS_RESOURCE
(fs.pipe-max-size); libfuse sends a reply of 1 MiB through a pipe of 2 MiB, or, refused one,
by pread and writev instead of splice for the rest of the mount (measured here: no splice
at all with 1 MiB requests)."""
CONN_SETTINGS = {
    "max_read": MAX_READ_BYTES,  # libfuse 3 refuses the session unless init() asks for the mount option's max_read
    "max_write": SPLICE_REQUEST_BYTES,  # a read-only mount: max_write only sizes the requests (max_pages)
    "max_readahead": READ_AHEAD_KIB * 1024,
    "max_background": 64,
    "congestion_threshold": 48,
}


def serve(
    vfs: Vfs,
    mountpoint: str,
    *,
    allow_other: bool = False,
    attr_timeout_s: float = 60.0,
    refresh_s: float = 2.0,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Mount `vfs` read-only at `mountpoint` and serve it until unmounted.

    Files show their archived owners and modes. Without `allow_other` only the user who mounts
    can enter the mount, and may read every file whatever its archived owner (as `restore`
    lets them read every byte); with it, the kernel checks owners and modes for everyone
    (`default_permissions`), as on the source.

    libfuse starts a thread per request waiting, up to MAX_THREADS (see the test with 40
    reads stuck on a disc), so reads waiting for discs never hold up stat or cached reads."""
    options: dict[str, Any] = {
        "ro": True,
        "fsname": "odarchive",
        "subtype": "odarchive",
        "use_ino": True,
        "max_read": MAX_READ_BYTES,
        "max_threads": MAX_THREADS,
        "attr_timeout": attr_timeout_s,
        "entry_timeout": attr_timeout_s,
        "negative_timeout": min(attr_timeout_s, refresh_s),
    }
    if allow_other:  # other users: the kernel checks the archived owners and modes for them
        options["allow_other"] = options["default_permissions"] = True
    stop = threading.Event()
    prefetcher = KernelPrefetcher(mountpoint)

    def started(fuse: OdarchiveFUSE) -> None:
        raise_read_ahead(mountpoint, READ_AHEAD_KIB)
        if fuse.readdirplus:  # without it a listing gives the kernel names only: nothing to gain
            prefetcher.start()
            vfs.on_walk = prefetcher.walked
        watcher = threading.Thread(
            target=_watch, args=(vfs, fuse, refresh_s, stop, prefetcher), name="odarchive-refresh", daemon=True
        )
        watcher.start()
        if on_ready is not None:
            on_ready()

    if not keep_read_buffers():
        log.warning("cannot tune malloc (not glibc?): every read allocates its buffers afresh")
    try:
        OdarchiveFUSE(
            FuseOps(vfs),
            mountpoint,
            conn_settings=CONN_SETTINGS,
            on_init=started,
            foreground=True,
            nothreads=False,
            **options,
        )
    finally:
        stop.set()
        vfs.on_walk = None
        prefetcher.stop()


def _watch(
    vfs: Vfs, fuse: OdarchiveFUSE, refresh_s: float, stop: threading.Event, prefetcher: KernelPrefetcher
) -> None:
    """Notice catalogue changes without waiting for a request; when the tree changed, make the
    kernel forget the names and attributes it cached (so long timeouts never show stale ones)."""
    version, names = vfs.tree_version, vfs.top_names()
    try:
        vfs.statfs()  # count the archive now rather than in the first `df`
    except Exception:
        log.exception("cannot count the archive for df")
    while not stop.wait(refresh_s):
        try:
            vfs.refresh()
            if vfs.tree_version == version:
                continue
            version, new = vfs.tree_version, vfs.top_names()
            prefetcher.forget()
            for name in sorted(names | new):
                fuse.invalidate_entry(name)
            for path in vfs.open_paths():  # in use: the kernel keeps their names; drop their attributes
                fuse.invalidate_path(path)
            names = new
            vfs.statfs()
        except Exception:
            log.exception("refreshing the tree failed; trying again in %s s", refresh_s)


def raise_read_ahead(mountpoint: str, kib: int) -> bool:
    """Set the read-ahead window of the FUSE mount at `mountpoint` (needs root; False if it
    could not: reads still work, in 128 KiB requests). Found through /proc/self/mountinfo, so
    it works from inside FUSE's init callback (a stat of the mountpoint would wait for it)."""
    target = str(Path(mountpoint).absolute())
    for raw, escaped in (("\\", "\\134"), (" ", "\\040"), ("\t", "\\011"), ("\n", "\\012")):
        target = target.replace(raw, escaped)  # as mountinfo writes them
    try:
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            fields = line.split()
            if len(fields) > 4 and fields[4] == target:
                Path(f"/sys/class/bdi/{fields[2]}/read_ahead_kb").write_text(f"{kib}\n")
                return True
    except OSError as e:
        log.warning(
            "cannot raise the read-ahead of %s to %d KiB (%s): sequential reads stay in 128 KiB requests",
            mountpoint,
            kib,
            e,
        )
        return False
    log.warning("cannot find the mount %s in /proc/self/mountinfo to raise its read-ahead", mountpoint)
    return False
