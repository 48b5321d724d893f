"""One disc being filled by the planner: an incremental upper bound and an exact check.

Adding a file costs O(1) with `upper_bytes`, a bound on what the file adds to the image
(its data, file entry, directory records in three views, its SHA256SUMS line and
catalogue.json entry; a further name of a content already on the disc adds no data and no
file entry). Only when the bound says "full" does `exact_free` lay the disc out
exactly (`odarchive.iso.sizing`, the model the tests check against pycdlib) and re-base the
bound, so a disc is filled to the byte while most files cost no exact layout.

Memory (a disc may hold millions of files): the disc's files are its layout's columns
(`odarchive.iso.layout`) and nothing else per file: which contents are on the disc is a bit
per content id (`IdBits`), and a node is kept only for the contents that may have further
names (`may_have_names`, known from the catalogue).
"""

from __future__ import annotations

from collections.abc import Container, Iterator

from odarchive.iso import disc_files, manifest, names, sizing
from odarchive.iso.layout import DiscLayout, FileNode
from odarchive.iso.manifest import DiscInfo
from odarchive.iso.placed import Placed, disc_raw_path

BLOCK = sizing.BLOCK
NEW_DIR_BYTES = 5 * BLOCK + 1000  # file entry, FIDs, ISO and Joliet extents, records, path tables
FIXED_SLACK_BYTES = 10 * BLOCK  # path tables growing by pairs of blocks, /DEEP


def upper_bytes(raw_path: bytes, size: int, new_dirs: int, stored: bool = True) -> int:
    """An upper bound of the bytes a file adds to an image (data rounded up to blocks); a
    further name of a stored content (`stored=False`) adds its records and lines only."""
    name = raw_path.rsplit(b"/", 1)[-1]
    text = names.udf_text(name)
    depth = raw_path.count(b"/") + 2
    units = len(text.encode("utf-16-be")) // 2
    fid = sizing.udf_fid_len(text) + 16 if names.udf_fits(text) else 300
    extents = sizing.extent_count(size)
    iso = 70 * extents
    joliet = (2 * min(64, units + 6) + 40) * extents * 110 // 100
    sums = 100 + 4 * len(raw_path) + 16 * depth
    cat = 500 + 20 * len(raw_path) + 40 * depth
    data = sizing.data_blocks(size) * BLOCK + BLOCK if stored else 0  # its data and file entry
    return data + fid + iso + joliet + sums + cat + new_dirs * NEW_DIR_BYTES


class IdBits:
    """A set of non-negative integers (content ids, which are dense) as one bit each."""

    def __init__(self) -> None:
        self.bits = bytearray()

    def add(self, n: int) -> None:
        byte = n >> 3
        if byte >= len(self.bits):
            self.bits.extend(bytes(max(byte + 1 - len(self.bits), len(self.bits))))
        self.bits[byte] |= 1 << (n & 7)

    def __contains__(self, n: object) -> bool:
        if not isinstance(n, int) or n < 0:
            return False
        byte = n >> 3
        return byte < len(self.bits) and bool(self.bits[byte] >> (n & 7) & 1)


class OpenDisc:
    """The disc being filled: its layout (its placements and further names) and how full it is."""

    def __init__(
        self, disc_id: int, capacity: int, info: DiscInfo, reserve: int, may_have_names: Container[int] = ()
    ) -> None:
        self.disc_id = disc_id
        self.capacity_blocks = capacity // BLOCK
        self.info = info
        self.reserve = reserve
        self.layout = DiscLayout()
        self.content_ids = IdBits()  # every content with a piece or all of it on this disc
        self.may_have_names = may_have_names
        self.stored: dict[int, FileNode] = {}  # content id -> its node: placed whole, in may_have_names
        self.names_full = False  # a further name did not fit: no more are tried
        self._dirs: set[bytes] = set()
        self.base_bytes = self.exact_blocks() * BLOCK + FIXED_SLACK_BYTES
        self.empty_bytes = self.base_bytes  # an empty disc's own overhead (upper bound)
        self.pending_bytes = 0

    def exact_blocks(self) -> int:
        self.layout.set_manifest_sizes(manifest.required_sizes(self.layout, self.info, self.reserve))
        return sizing.image_blocks(self.layout)

    def _new_dirs(self, raw_path: bytes) -> int:
        parts = raw_path.split(b"/")[:-1]
        return sum(1 for i in range(1, len(parts) + 1) if b"/".join(parts[:i]) not in self._dirs)

    def cost(self, p: Placed) -> int:
        """The upper bound of what placement `p` adds to this disc."""
        path = disc_raw_path(p)
        return upper_bytes(path, p.length, self._new_dirs(path))

    def fits_estimate(self, cost: int) -> bool:
        return self.base_bytes + self.pending_bytes + cost <= self.capacity_blocks * BLOCK

    @property
    def n_files(self) -> int:
        """Stored files (contents and pieces) on the disc."""
        return self.layout.n_files

    def add(self, p: Placed, cost: int | None = None) -> None:
        path = disc_raw_path(p)
        self.pending_bytes += self.cost(p) if cost is None else cost
        parts = path.split(b"/")[:-1]
        self._dirs.update(b"/".join(parts[:i]) for i in range(1, len(parts) + 1))
        node = self.layout.add(path, p.length, p)
        self.content_ids.add(p.content_id)
        if not p.piece and p.content_id in self.may_have_names:
            self.stored[p.content_id] = node

    def placements(self) -> Iterator[Placed]:
        """The disc's stored files (contents and pieces), from its layout."""
        return (f.placed for f in self.layout.file_nodes() if f.stored)

    def further_names(self) -> Iterator[Placed]:
        """The further names of contents stored on the disc (`add_name`), from its layout."""
        return (f.placed for f in self.layout.file_nodes() if not f.stored)

    def add_name(self, content_id: int, raw_path: bytes, mtime_ns: int, mode: int) -> bool:
        """List a content placed whole on this disc under one more name, if that still fits
        (the estimate first, then the exact layout); returns whether it was added."""
        if self.names_full:
            return False
        primary = self.stored[content_id]
        cost = upper_bytes(raw_path, primary.size, self._new_dirs(raw_path), stored=False)
        node = disc_files.add_name(self.layout, primary, raw_path, mtime_ns, mode)
        if self.fits_estimate(cost):
            self.pending_bytes += cost
        else:
            blocks = self.exact_blocks()
            if blocks > self.capacity_blocks:
                self.layout.remove(raw_path, node)
                self.names_full = True  # (one exact layout per name would make a full disc slow)
                return False
            self.base_bytes, self.pending_bytes = blocks * BLOCK + FIXED_SLACK_BYTES, 0
        parts = raw_path.split(b"/")[:-1]
        self._dirs.update(b"/".join(parts[:i]) for i in range(1, len(parts) + 1))
        return True

    def exact_free(self, trial: Placed) -> int:
        """The largest length `trial` may have to fit (exact layout); re-bases the estimate."""
        path = disc_raw_path(trial)
        node: FileNode = self.layout.add(path, 0, trial)
        try:
            blocks = self.exact_blocks()
        finally:
            self.layout.remove(path, node)
        self.base_bytes = self.exact_blocks() * BLOCK + FIXED_SLACK_BYTES
        self.pending_bytes = 0
        free = (self.capacity_blocks - blocks) * BLOCK
        # each extra 4 GiB extent adds an ISO 9660 and a Joliet record: at most two blocks
        return max(0, free - 2 * BLOCK * (sizing.extent_count(max(free, 0)) - 1))

    def used_bytes(self) -> int:
        return self.exact_blocks() * BLOCK
