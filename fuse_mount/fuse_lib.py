"""libfuse through mfusepy, with the things mfusepy 3.1.1 does not do for us.

`OdarchiveFUSE` is a small subclass of `mfusepy.FUSE` (the fusepy API stays as it is: our
`FuseOps` is a plain `mfusepy.Operations`). It changes only what mfusepy does not offer, each
measured on this kernel with libfuse 3.14 (benchmarks/BENCHMARKS.md, "Mount"):

- **libfuse 3, always**: mfusepy loads `libfuse.so.2` when it is installed, before libfuse 3.
  `FUSE_LIBRARY_NAME=fuse3` is set before mfusepy is imported, and `LIBFUSE_VERSION` says
  what was loaded; `require_libfuse3()` refuses anything else with a clear error.
- **readdirplus with full attributes, from tuples**: mfusepy's readdir hands libfuse only the
  mode and inode of each entry, so `ls -l` costs a lookup and a getattr in Python per entry.
  Here `operations.readdir_rows` gives (name bytes, `STAT_ROW` tuple) and each entry is packed
  into the stat in one `struct` call and passed with `FUSE_FILL_DIR_PLUS`: the kernel has the
  entry and its attributes without asking again; every reply is readdirplus (not only the
  first, as the kernel's "auto" mode does). `operations.getattr_row` is getattr the same way.
- **keep_cache per open**: `Operations.page_cache(fh)` (if defined) gives (keep_cache,
  direct_io) of an open in one call: whether the kernel keeps its page cache of the file
  across opens (contents are immutable, so re-reads run at page-cache speed), instead of the
  all-or-nothing `kernel_cache` option, and whether this open bypasses the page cache.
- **read_buf**: a cached read answers with where its bytes lie in the cache's verified files
  (`fuse_mount.fd_reads`); libfuse sends them after the callback, spliced from the file to
  /dev/fuse without the GIL (`FUSE_CAP_SPLICE_WRITE`), instead of Python copying them.
- **connection settings in init**: options libfuse 3.14 refuses as `-o` (`max_readahead`,
  `max_background`, `congestion_threshold`) are set on the connection in `init`; and
  `invalidate_entry(name)` tells the kernel to forget a top-level name and everything cached
  below it, `invalidate_path(path)` the attributes and pages of a file in use (both used when
  the catalogue's tree changes, so long entry/attribute timeouts are safe).

Threads: libfuse calls every method from its own worker threads; `invalidate_entry` may be
called from any other thread once `init` has run (never from inside a FUSE callback on the
same directory: the kernel would wait for that callback).
"""

from __future__ import annotations

import ctypes
import itertools
import logging
import operator
import os
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Any

os.environ.setdefault("FUSE_LIBRARY_NAME", "fuse3")  # before mfusepy picks libfuse 2 if installed

import mfusepy

from fuse_mount import fd_reads

log = logging.getLogger("odarchive.mount.fuse")

LIBFUSE_VERSION = (mfusepy.fuse_version_major, mfusepy.fuse_version_minor)
FUSE_READDIR_PLUS = 1  # the readdir request's flag: the kernel wants attributes too
FUSE_FILL_DIR_PLUS = 2  # the filler's flag: these attributes are complete
FUSE_ROOT_ID = 1
FUSE_CAP_SPLICE_WRITE = 1 << 7
FUSE_CAP_SPLICE_MOVE = 1 << 8
FUSE_CAP_READDIRPLUS = 1 << 13
FUSE_CAP_READDIRPLUS_AUTO = 1 << 14
FUSE_CAP_CACHE_SYMLINKS = 1 << 23
STAT_ROW = ("st_ino", "st_mode", "st_nlink", "st_uid", "st_gid", "st_size", "st_mtime", "st_ctime")
"""The attributes `getattr_row` and `readdir_rows` give, in this order (times in ns; atime is
mtime, st_blocks follows from the size)."""
BLKSIZE = 131072
"""st_blksize: the I/O size `cp`, `cat` and friends choose for reads."""
NS = 1_000_000_000

_lib = mfusepy._libfuse
_lib.fuse_get_session.restype = ctypes.c_void_p
_lib.fuse_get_session.argtypes = [ctypes.c_void_p]
_lib.fuse_invalidate_path.restype = ctypes.c_int
_lib.fuse_invalidate_path.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
_lib.fuse_lowlevel_notify_inval_entry.restype = ctypes.c_int
_lib.fuse_lowlevel_notify_inval_entry.argtypes = [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_char_p, ctypes.c_size_t]
_Filler = ctypes.PYFUNCTYPE(
    ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int
)
"""libfuse's readdir filler, called holding the GIL: mfusepy's prototype (CFUNCTYPE) gives the
GIL up and takes it back around every entry, a tenth of a listing's CPU. The filler only adds
the entry to libfuse's reply and its node table (under libfuse's own lock, which no thread
holds while it calls into Python), so holding the GIL through it cannot deadlock."""


M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3  # glibc mallopt parameters
MALLOC_SETTINGS = {M_MMAP_THRESHOLD: 4 << 20, M_TRIM_THRESHOLD: 128 << 20, M_TOP_PAD: 16 << 20}


def keep_read_buffers() -> bool:
    """Make glibc keep the memory of freed read buffers for the next ones (False if this libc
    has no mallopt).

    A read copied through Python (the fetcher's path, `Vfs.read`: bytes not yet verified in
    the cache) allocates two buffers of up to 1 MiB (libfuse's reply and the bytes Python
    reads); by default glibc may hand such memory back to the kernel on free (each worker
    thread's arena is trimmed), and every page is then faulted and cleared again. Since reads
    from the cache are spliced from its files (`fd_reads`), this matters on the fetch path
    only: the first read of 64 MiB from a disc image faulted 1.3-1.6 pages per 4 KiB with it,
    1.7-1.8 without (2026-12-02). Kept, the process holds at most about the buffers of the
    reads in flight plus 128 MiB of freed heap."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return all(mallopt(param, value) == 1 for param, value in MALLOC_SETTINGS.items())


class LibfuseError(RuntimeError):
    """The libfuse that mfusepy loaded is not the one the mount is built for."""


def require_libfuse3() -> None:
    if LIBFUSE_VERSION[0] != 3:
        raise LibfuseError(
            f"the mount needs libfuse 3, but mfusepy loaded libfuse {LIBFUSE_VERSION[0]}.{LIBFUSE_VERSION[1]}"
            f" ({mfusepy._libfuse_path}); install libfuse3-3 (Debian) or set FUSE_LIBRARY_PATH"
        )


def _stat_packer() -> tuple[struct.Struct, Callable[[tuple[int, ...]], tuple[int, ...]]]:
    """A `struct.Struct` that writes every field `fill_stat` sets into a `c_stat` in one call
    (setting ctypes fields one by one costs more than the rest of a listing entry), and the
    reordering of `fill_stat`'s values into the struct's field order (the layout differs by
    platform: mfusepy's `c_stat` says where each field is)."""
    c_stat, ts = mfusepy.c_stat, mfusepy.c_timespec
    types = dict(c_stat._fields_)
    fields = [
        (getattr(c_stat, f).offset, types[f])
        for f in ("st_ino", "st_mode", "st_nlink", "st_uid", "st_gid", "st_size", "st_blksize", "st_blocks")
    ]
    for t in ("st_atimespec", "st_mtimespec", "st_ctimespec"):
        base = getattr(c_stat, t).offset
        fields += [(base + ts.tv_sec.offset, ctypes.c_long), (base + ts.tv_nsec.offset, ctypes.c_long)]
    order = sorted(range(len(fields)), key=lambda i: fields[i][0])
    fmt, at = "=", 0
    for i in order:
        offset, ctype = fields[i]
        code = {4: "i", 8: "q"}[ctypes.sizeof(ctype)]
        fmt += "x" * (offset - at) + (code if ctype(-1).value < 0 else code.upper())
        at = offset + ctypes.sizeof(ctype)
    fmt += "x" * (ctypes.sizeof(c_stat) - at)  # to the end: packing zeroes every byte of the stat
    return struct.Struct(fmt), operator.itemgetter(*order)


_PACKER, _ORDER = _stat_packer()
_pack_into = _PACKER.pack_into
_STAT_SIZE = _PACKER.size
PACKED_ENTRIES = 131_072
"""Entries kept packed in all (about 210 bytes each with a 12-byte name: 28 MB at most); the least
recently listed go first."""
PACKED_LISTING_MAX = PACKED_ENTRIES
"""Listings up to this many entries are kept packed once read whole (`_Packed`): a directory of
100,000 listed again (`ls -l` twice) costs only the filler call per entry."""


def fill_stat(st: Any, row: tuple[int, ...]) -> None:
    """Write a `STAT_ROW` tuple into a `c_stat` (every byte: the fields not set are zeroed)."""
    ino, mode, nlink, uid, gid, size, mtime_ns, ctime_ns = row
    ms, mns = divmod(mtime_ns, NS)
    cs, cns = divmod(ctime_ns, NS)
    _pack_into(
        st, 0, *_ORDER((ino, mode, nlink, uid, gid, size, BLKSIZE, (size + 511) >> 9, ms, mns, ms, mns, cs, cns))
    )


LIBFUSE_MAX_THREADS = 10
"""libfuse's worker threads at most unless the `max_threads` option says otherwise."""
_gil_ensure = ctypes.pythonapi.PyGILState_Ensure
_gil_ensure.restype, _gil_ensure.argtypes = ctypes.c_int, []


class ThreadStates:
    """Keeps the Python thread state of each libfuse worker thread between its callbacks.

    ctypes runs a callback from a thread Python did not start in a thread state made for that
    call (PyGILState_Ensure) and deleted after it (PyGILState_Release): a new state, its frame
    stack mmapped and freed, on every lookup, about a sixth of a lookup's CPU. `keep` takes one
    more PyGILState hold the first time a thread calls, so the state outlives the call and
    later calls of that thread reuse it. A state is never given back: libfuse 3.14 keeps its
    workers until unmount (idle threads are destroyed only with `max_idle_threads`, which the
    mount does not set), and at most `limit` (the `max_threads` of the pool) are ever kept, so
    a thread pool that did end and start threads would leave at most `limit` states behind
    (a few KiB each), never one per call.
    """

    def __init__(self, limit: int) -> None:
        self._local = threading.local()  # per thread state: set once the state is kept
        self._left = limit
        self._lock = threading.Lock()

    def keep(self) -> None:
        if self._left <= 0 or getattr(self._local, "kept", False):
            return
        with self._lock:
            if self._left <= 0:
                return
            self._left -= 1
        _gil_ensure()  # the GIL is held: this only counts one more hold of this thread's state
        self._local.kept = True

    @property
    def left(self) -> int:
        """How many more threads may have their state kept."""
        return self._left


class OdarchiveFUSE(mfusepy.FUSE):
    """`mfusepy.FUSE` plus readdirplus, keep_cache per open and init-time settings (above).

    `conn_settings`: fields of libfuse's `fuse_conn_info` to set in init (libfuse caps
    `max_readahead` at what the kernel offered; `fuse_ops.raise_read_ahead` raises the
    kernel's side). `on_init(self)` runs at the end of init, on libfuse's thread: it must not
    call into the mount.
    """

    def __init__(
        self,
        operations: Any,
        mountpoint: str,
        *,
        conn_settings: dict[str, int] | None = None,
        on_init: Callable[[OdarchiveFUSE], None] | None = None,
        **kwargs: Any,
    ) -> None:
        require_libfuse3()
        self._conn_settings = conn_settings or {}
        self._on_init = on_init
        self._fuse: int | None = None
        self._session: int | None = None
        self._listings: dict[int, _Listing] = {}  # open directory handle -> its listing
        self._listings_lock = threading.Lock()
        self._packed: OrderedDict[Hashable, _Packed] = OrderedDict()  # listing key -> listing (LRU)
        self._packed_entries = 0
        self.readdirplus = False  # whether the kernel agreed to readdirplus (set in init)
        self._thread_states = ThreadStates(int(kwargs.get("max_threads", LIBFUSE_MAX_THREADS)))
        super().__init__(operations, mountpoint, **kwargs)

    # ---- init: connection settings, and the session for invalidations ----
    def init_fuse_3(self, conn: Any, config: Any) -> None:
        c = conn.contents
        for name, value in self._conn_settings.items():
            setattr(c, name, value)
        if c.capable & FUSE_CAP_CACHE_SYMLINKS:
            c.want |= FUSE_CAP_CACHE_SYMLINKS  # link targets never change within a tree
        # read_buf's pieces of cache files go to /dev/fuse by splice: one copy, in the kernel
        c.want |= c.capable & (FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE)
        # every listing with attributes (not only its first reply): they cost one query with the
        # names, and spare a lookup per name to whoever stats what it listed (os.listdir + stat)
        c.want &= ~FUSE_CAP_READDIRPLUS_AUTO
        self.readdirplus = bool(c.want & FUSE_CAP_READDIRPLUS)
        self._fuse = _lib.fuse_get_context().contents.fuse
        self._session = _lib.fuse_get_session(self._fuse)
        log.info(
            "libfuse %d.%d: max_readahead %d, max_background %d, readdirplus %s, splice %s",
            *LIBFUSE_VERSION,
            c.max_readahead,
            c.max_background,
            "on" if self.readdirplus else "off",
            "on" if c.want & FUSE_CAP_SPLICE_WRITE else "off",
        )
        super().init_fuse_3(conn, config)
        if self._on_init is not None:
            self._on_init(self)

    def invalidate_entry(self, name: bytes) -> bool:
        """Make the kernel forget `/<name>` and what it cached below it; False if it had none."""
        if self._session is None:
            return False
        return _lib.fuse_lowlevel_notify_inval_entry(self._session, FUSE_ROOT_ID, name, len(name)) == 0

    def invalidate_path(self, path: bytes) -> bool:
        """Make the kernel drop the attributes and pages it cached for `path` (a file still in
        use, whose name `invalidate_entry` cannot make it forget); False if it had none."""
        if self._fuse is None:
            return False
        return _lib.fuse_invalidate_path(self._fuse, path) == 0

    # ---- getattr: the call a first `stat` of every file makes once per file ----
    def getattr_fuse_3(self, path: bytes | None, buf: Any, fip: Any) -> int:
        """As mfusepy's, but from `operations.getattr_row` (a `STAT_ROW` tuple) packed into the
        stat in one call, instead of a dict copied through mfusepy's generic loop."""
        fill_stat(buf.contents, self.operations.getattr_row(path))
        return 0

    # ---- every callback: the thread's Python state is kept ----
    def _wrapper(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """mfusepy's wrapper of every callback (errors to errno), in a thread state kept from
        one call of this libfuse thread to the next (`ThreadStates`)."""
        self._thread_states.keep()
        return super()._wrapper(func, *args, **kwargs)

    # ---- read_buf: cached bytes sent by libfuse from the cache files ----
    def read_buf(self, path: bytes | None, bufpp: Any, size: int, offset: int, fip: Any) -> int:
        """libfuse's read_buf: `operations.read_buf(path, size, offset, fh)` gives pieces of
        open files (`fd_reads.Piece`) or bytes; they go to libfuse as a `fuse_bufvec`, which
        it sends (splices) after this returns, without the GIL (`fuse_mount.fd_reads`)."""
        fd_reads.end_lease()  # this thread's previous reply is written
        parts = self.operations.read_buf(
            None if path is None else path.decode(self.encoding, self.errors), size, offset, fip.contents.fh
        )
        ctypes.c_void_p.from_address(ctypes.addressof(bufpp.contents)).value = fd_reads.bufvec(parts)  # *bufpp =
        return 0

    # ---- open: keep_cache decided per file ----
    def open(self, path: bytes, fip: Any) -> int:
        fi = fip.contents
        fi.fh = self.operations.open(path.decode(self.encoding, self.errors), fi.flags)
        page_cache = getattr(self.operations, "page_cache", None)
        fi.keep_cache, fi.direct_io = page_cache(fi.fh) if page_cache is not None else (False, False)
        return 0

    # ---- readdir: full attributes with readdirplus, streamed with offsets ----
    def readdir_fuse_3(self, path: bytes | None, buf: Any, filler: Any, offset: int, fip: Any, flags: int) -> int:
        """Fill one reply from the directory handle's listing, resuming where the last ended.

        The listing is `operations.readdir_rows(path, fh)`: (name bytes, `STAT_ROW` tuple or
        (inode, mode) only). Entries carry nonzero offsets (their position + 1): libfuse 3.14
        passes readdirplus attributes to the kernel only on this path (with offset 0 it keeps
        the whole listing and drops them). The listing is a generator kept per open directory
        (`_Listing`), so a directory of millions is never held in memory; a seek restarts it.

        A listing of up to PACKED_LISTING_MAX entries read whole with attributes is kept as
        libfuse's stat structs (`_Packed`), by `operations.listing_key(path)` (the path and
        the catalogue's version: any change of the catalogue makes a new key): listing it
        again (`find`, `ls` twice) costs only the filler call per entry."""
        plus = FUSE_FILL_DIR_PLUS if flags & FUSE_READDIR_PLUS else 0
        filler = _Filler(ctypes.cast(filler, ctypes.c_void_p).value or 0)
        key_of = getattr(self.operations, "listing_key", None)
        key = key_of(path) if key_of is not None and path is not None else None
        if key is not None:
            with self._listings_lock:
                packed = self._packed.get(key)
                if packed is not None:
                    self._packed.move_to_end(key)
            if packed is not None:
                packed.fill(buf, filler, offset, plus)
                return 0
        fh = fip.contents.fh
        with self._listings_lock:
            listing = self._listings.pop(fh, None)
        if listing is None or listing.position != offset:
            listing = _Listing(iter(self.operations.readdir_rows(path, fh)))
            listing.items = itertools.islice(listing.items, offset, None)
            listing.position = offset
            listing.kept = _Packed() if key is not None and offset == 0 else None
        if not plus:
            listing.kept = None  # only listings with every attribute are kept
        st = mfusepy.c_stat()
        pst, st_bytes = ctypes.addressof(st), memoryview(st).cast("B")  # the view: appended cheaply when kept
        position, pending, listing.pending = listing.position, listing.pending, None
        items = listing.items if pending is None else itertools.chain((pending,), listing.items)
        kept = listing.kept
        try:
            for item in items:
                name, row = item
                if plus and len(row) > 2:
                    fill_stat(st, row)
                    fill = plus
                else:
                    ctypes.memset(pst, 0, ctypes.sizeof(st))
                    st.st_ino, st.st_mode = row[0], row[1] & 0o170000
                    fill = 0
                if filler(buf, name, pst, position + 1, fill) != 0:
                    listing.pending = item  # the reply is full: this one starts the next
                    break
                position += 1
                if kept is not None:
                    kept.add(name, st_bytes, fill)
                    if len(kept.names) > PACKED_LISTING_MAX:
                        listing.kept = kept = None
            else:
                if kept is not None and key is not None:  # the whole listing went out: keep it
                    self._keep_packed(key, kept.sealed())
                    listing.kept = None
        finally:
            listing.position = position
            with self._listings_lock:
                self._listings[fh] = listing
        return 0

    def _keep_packed(self, key: Hashable, packed: _Packed) -> None:
        with self._listings_lock:
            old = self._packed.pop(key, None)
            self._packed_entries += len(packed.names) - (len(old.names) if old is not None else 0)
            self._packed[key] = packed
            while self._packed_entries > PACKED_ENTRIES:
                _, gone = self._packed.popitem(last=False)
                self._packed_entries -= len(gone.names)

    def releasedir(self, path: bytes | None, fip: Any) -> int:
        with self._listings_lock:
            self._listings.pop(fip.contents.fh, None)
        return super().releasedir(path, fip)


class _Listing:
    """Where the listing of one open directory stands: the entries still to hand to libfuse,
    how many it has had, the one that did not fit in the last reply, and (while it may still
    be kept whole) the packed entries handed out so far."""

    def __init__(self, items: Iterator[tuple[bytes, tuple[int, ...]]]) -> None:
        self.items = items
        self.position = 0  # entries handed to libfuse so far
        self.pending: tuple[bytes, tuple[int, ...]] | None = None  # did not fit in the last reply
        self.kept: _Packed | None = None  # the entries so far, while the listing may be kept


class _Packed:
    """A whole listing as libfuse takes it: names, their stat structs in one buffer, flags.

    Built entry by entry (`add`, then `sealed`) with no object per entry but its name: a list
    of a tuple per entry made Python's garbage collector walk the growing list again and again
    (a first `ls -l` of 100,000 entries took 0.35 s longer)."""

    def __init__(self) -> None:
        self.names: list[bytes] = []
        self.fills = bytearray()  # FUSE_FILL_DIR_PLUS or 0, one byte an entry
        self._stats = bytearray()
        self._base = 0

    def add(self, name: bytes, st: memoryview, fill: int) -> None:
        """One more entry: its name, its stat struct (the bytes of a `c_stat`), its fill flag."""
        self.names.append(name)
        self._stats += st
        self.fills.append(fill)

    def sealed(self) -> _Packed:
        """This listing, complete: its stat structs no longer move in memory."""
        self._stats += b"\0"  # never empty (ctypes maps no empty buffer)
        self._buffer = (ctypes.c_char * len(self._stats)).from_buffer(self._stats)
        self._base = ctypes.addressof(self._buffer)
        return self

    def fill(self, buf: Any, filler: Any, offset: int, plus: int) -> None:
        """Hand libfuse the entries from `offset` on until its reply is full."""
        names, fills, base = self.names, self.fills, self._base
        for i in range(offset, len(names)):
            if filler(buf, names[i], base + i * _STAT_SIZE, i + 1, fills[i] if plus else 0) != 0:
                return
