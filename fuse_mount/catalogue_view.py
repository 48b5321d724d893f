"""What the mount needs from a catalogue: the read-only `CatalogueView` Protocol and its records.

`fuse_mount` never imports `odarchive`; the command line hands the mount an object that
satisfies this Protocol (`odarchive/app/mount_adapter.py` implements it over the SQLite
catalogue). Names and link targets are bytes exactly as archived. Implementations are called
from many threads at once (FUSE threads, one fetcher worker per drive) and must be safe for it.

Vocabulary: a *directory node* (`dirs.id`) is a directory's identity, independent of
versions; an *entry* is one version of a file, directory or symlink in a directory node,
valid for a range of snapshots. A source's root directory is the entry named after the root
in node 0; its children live in node `root_dir`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple, Protocol


class Entry(NamedTuple):  # a tuple: built for every name a lookup storm meets, 5x cheaper than a frozen dataclass
    id: int
    dir_id: int
    name: bytes
    kind: str  # 'f' file, 'd' directory, 'l' symlink
    size: int
    mtime_ns: int
    mode: int
    content_id: int | None
    target: bytes | None
    # archived metadata (issue 11): None/defaults where the catalogue does not know it
    uid: int | None = None  # owner and group as archived (None: show the mount's own)
    gid: int | None = None
    xattrs: int | None = None  # id of the archived extended-attribute set: `CatalogueView.xattrs`
    nlink: int = 1  # names of this inode in the snapshot (hard links)
    inode: int | None = None  # the same for every hard link of one inode (an entry id); None: `id`
    ctime_ns: int | None = None  # as archived; None: not known (show mtime_ns)


ListRow = tuple[bytes, int, int, int, int, int, int | None, int | None, int]
"""One entry of a listing: (name, st_mode, inode id, size, mtime_ns, ctime_ns, uid, gid, nlink).
The inode id is `Entry.inode` if set, else `Entry.id`; uid/gid None: not known; ctime_ns is
mtime_ns where the catalogue does not know it."""


@dataclass(frozen=True)
class RootSnapshot:
    """One complete snapshot of one source, as the mount shows it."""

    snapshot_id: int
    root_name: bytes
    root_dir: int
    finished_ns: int


@dataclass(frozen=True)
class Content:
    id: int
    sha256: bytes  # 32 raw bytes
    size: int


@dataclass(frozen=True)
class Piece:
    """A content (piece 0) or one piece of a split content, placed on one disc."""

    piece: int
    disc_id: int
    offset: int  # where the piece starts within the content
    length: int
    extents: tuple[tuple[int, int], ...]  # (image_offset, length) in order; empty until written


@dataclass(frozen=True)
class Disc:
    id: int
    label: str
    image_name: str | None
    state: str  # planned, written, burned, verified
    slot: int | None = None  # the changer slot holding the burned disc, if known
    copy_slots: tuple[int, ...] = ()  # slots of its other copies (sets B, C, ...), tried in turn
    location: str | None = None  # where a person keeps it when it is out of the changer


class CatalogueView(Protocol):
    def generation(self) -> int:
        """A number that changes whenever the catalogue changes (new snapshot, new disc)."""

    def latest_roots(self) -> list[RootSnapshot]:
        """The latest complete snapshot of every source, by root name."""

    def snapshots(self) -> list[RootSnapshot]:
        """Every complete snapshot, by id."""

    def lookup(self, dir_id: int, name: bytes, snap: int) -> Entry | None:
        """The entry `name` in directory node `dir_id` valid in snapshot `snap`."""

    def child_dir(self, dir_id: int, name: bytes) -> int | None:
        """The directory node of directory `name` inside node `dir_id`."""

    def list_attrs(self, dir_id: int, snap: int) -> Iterator[ListRow]:
        """The entries of node `dir_id` valid in snapshot `snap` with what `stat` shows of them,
        streamed by name (tuples, not `Entry`: a directory may hold millions, and `ls -l` of
        one reads every row)."""

    def entries_at_most(self, dir_id: int, snap: int, limit: int) -> bool:
        """Whether node `dir_id` holds at most `limit` entries valid in snapshot `snap` (it
        need not count further: a directory may hold millions)."""

    def list_entries(self, dir_id: int, snap: int) -> Iterator[Entry]:
        """The entries of node `dir_id` valid in snapshot `snap`, in any order (the VFS reads
        a directory whole when many of its names are looked up)."""

    def totals(self) -> tuple[int, int]:
        """(bytes of every content, number of entries) in the catalogue (for `df`; may take a
        second on a large catalogue, the VFS counts once per change)."""

    def content(self, content_id: int) -> Content:
        """A content's hash and size."""

    def pieces(self, content_id: int) -> list[Piece]:
        """Where a content lies on discs, by piece number (empty if not on any disc yet)."""

    def chunk_size(self) -> int:
        """Size of the chunks that `chunk_hashes` hash."""

    def chunk_hashes(self, content_id: int) -> dict[int, bytes]:
        """SHA-256 of each chunk of a large content by chunk number (empty if not recorded)."""

    def disc(self, disc_id: int) -> Disc | None:
        """One disc, or None if the catalogue does not know it."""

    def xattrs(self, set_id: int) -> dict[str, bytes]:
        """An archived extended-attribute set (`Entry.xattrs`): name -> value, `user.*` and the
        POSIX ACLs as `system.posix_acl_access` / `system.posix_acl_default` (kernel format)."""

    def holds_acls(self) -> bool:
        """Whether any archived attribute set holds a POSIX ACL (the mount then answers
        `system.posix_acl_*` for every file instead of "not supported")."""
