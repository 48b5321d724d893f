"""The streaming image writer: UDF + ISO 9660 level 3 + Joliet bridge, written front to back.

`write_image(blocks, sink, ...)` emits every block of the image in order (see
`odarchive.iso.blocks` for the order): the volume descriptors, the UDF sequences and file
entries, the path tables, the ISO 9660 and Joliet directories, the manifest files, then each
data file read from `open_file(f)` (a read-once file object, `feeder.SourceFeed`, or a small
file's whole bytes, already checked), and the closing anchor. Directory records are packed into
one buffer per directory extent, UDF file entries a batch at a time, from the layout's columns. Nothing is kept per file but what `ImageBlocks` holds, so memory does not
grow with the number of files beyond the layout itself; pycdlib (which keeps ~7 kB of
objects per file) is used only to read images. A content with several names (dedup) is
stored once: each further name is a UDF file identifier pointing at the stored file's entry
(whose link count counts them) and ISO 9660 / Joliet records pointing at its extent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Protocol

from odarchive.iso import ecma119, ecma167
from odarchive.iso.blocks import DIR_RECORD, FILE_RECORD, PARTITION_START, ImageBlocks, ViewDir
from odarchive.iso.ecma119 import BLOCK, FLAG_DIR, FLAG_MULTI_EXTENT
from odarchive.iso.ecma167 import FID_DIR, FID_PARENT, fi_bytes
from odarchive.iso.layout import DATA_DIR, MANIFEST_FILES, FileNode
from odarchive.iso.outfile import ImageSink
from odarchive.iso.sizing import MULTI_EXTENT_CHUNK

READ = 1 << 20
DATES_KEPT = 65536  # record dates kept by second
ENTRY_BATCH = 512  # UDF file entries put into the image at once


class Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


# a file's source; or, for a small file, its whole bytes, already checked and reported as done
OpenFile = Callable[[FileNode], Readable | bytes]
Progress = Callable[[int], None]


def _perms(mode: int) -> int:
    return ecma167.PERM_FILE | (ecma167.PERM_EXEC if mode & 0o111 else 0)


def _pack(out: bytearray, pos: int, ident: bytes, extent: int, length: int, flags: int, date: bytes) -> int:
    """Put one directory record at `pos` of `out` (or at the next block, where it would span
    one); returns the offset after it."""
    n = ecma119.record_len(len(ident))
    if pos // BLOCK != (pos + n - 1) // BLOCK:
        pos += -pos % BLOCK
    ecma119.pack_dir_record(out, pos, ident, extent, length, flags, date)
    return pos + n


class _Writer:
    def __init__(
        self,
        b: ImageBlocks,
        sink: ImageSink,
        volume_id: str,
        created_ns: int,
    ) -> None:
        self.b, self.sink, self.volume_id, self.created_ns = b, sink, volume_id, created_ns
        self.date = ecma119.record_date(created_ns / 1e9)
        self.dates: dict[int, bytes] = {}

    def at(self, block: int) -> None:
        """Pad with zeros up to `block` (never backwards: the image is written in order)."""
        assert self.sink.pos <= block * BLOCK, (self.sink.pos, block)
        self.sink.zeros(block * BLOCK - self.sink.pos)

    # ---- the fixed head
    def head(self) -> None:
        b, sink = self.b, self.sink
        self.at(16)
        for joliet, view, pt, pt_bytes in (
            (False, b.iso, b.iso_pt, b.iso_pt_bytes),
            (True, b.joliet, b.joliet_pt, b.joliet_pt_bytes),
        ):
            sink.put(
                ecma119.volume_descriptor(
                    joliet=joliet,
                    system_id="LINUX",
                    volume_id=self.volume_id,
                    application_id="odarchive",
                    space_blocks=b.total_blocks,
                    path_table_bytes=pt_bytes,
                    path_le=pt[0],
                    path_be=pt[1],
                    root_extent=view[0].extent,
                    root_bytes=view[0].blocks * BLOCK,
                    created=self.created_ns / 1e9,
                )
            )
        sink.put(ecma119.terminator())
        sink.put(ecma119.recognition_sequence())
        part_blocks = b.total_blocks - 1 - PARTITION_START
        for start in (32, 48):
            self.at(start)
            sink.put(
                ecma167.volume_sequence(
                    start, self.volume_id, f"{self.created_ns:016x}", self.created_ns, PARTITION_START, part_blocks, 64
                )
            )
        sink.put(ecma167.integrity(64, self.created_ns, b.file_fe_base + b.n_files, b.n_files, b.n_dirs, part_blocks))
        self.at(256)
        sink.put(ecma167.anchor(256).ljust(BLOCK, b"\0"))
        sink.put(ecma167.file_set(self.created_ns, self.volume_id, b.udf_root_fe - PARTITION_START))

    # ---- UDF directories and file entries
    def _dir_entry(self, fe_block: int, fid_bytes: int, subdirs: int) -> None:
        self.at(fe_block)
        lbn = fe_block - PARTITION_START
        self.sink.put(
            ecma167.file_entry(
                lbn,
                ecma167.FILE_TYPE_DIR,
                ecma167.PERM_DIR,
                1 + subdirs,
                fid_bytes,
                lbn + 1,
                self.created_ns,
                0 if fe_block == self.b.udf_root_fe else fe_block,
            ).ljust(BLOCK, b"\0")
        )

    def _fids(self, start_block: int, parent_fe: int, items: list[tuple[int, bytes, int]]) -> None:
        """A directory's identifiers from `start_block`: '..' then (characteristics, fi, FE block)."""
        offset = 0
        recs = []
        for chars, fi, fe in [(FID_DIR | FID_PARENT, b"", parent_fe), *items]:
            lbn = start_block + offset // BLOCK - PARTITION_START
            rec = ecma167.fid(lbn, chars, fi, fe - PARTITION_START, fe)
            recs.append(rec)
            offset += len(rec)
        self.sink.put(b"".join(recs))
        self.sink.pad_to_block()

    def udf(self) -> None:
        b = self.b
        root = b.udf_root_fe
        self._dir_entry(root, b.udf_root_fids, 1)
        data_fe = b.udf_fe[id(b.layout.data)]
        items = [(FID_DIR, fi_bytes(DATA_DIR), data_fe)]
        items += [(0, fi_bytes(n), b.manifest_fe(i)) for i, n in enumerate(MANIFEST_FILES)]
        self._fids(root + 1, root, items)
        parents = {id(b.layout.data): root}
        for node in b.nodes:
            fe = b.udf_fe[id(node)]
            self._dir_entry(fe, b.udf_fid_bytes[id(node)], len(node.subdirs))
            items = []
            for d in node.subdirs.values():
                parents[id(d)] = fe
                items.append((FID_DIR, fi_bytes(d.udf), b.udf_fe[id(d)]))
            fes = b.layout.fes  # (further names: the stored file's entry)
            items += [(0, fi_bytes(name), fes[n]) for n, name in zip(node.idx, node.name_lists()[0])]
            self._fids(fe + 1, parents[id(node)], items)
        self.at(b.file_fe_base)
        for i, name in enumerate(MANIFEST_FILES):
            rec = self._file_entry(
                b.manifest_fe(i), b.layout.manifest[name], b.manifest_block[name], self.created_ns, 0o644, 1
            )
            self.sink.put(rec.ljust(BLOCK, b"\0"))
        lay = b.layout
        sizes, data_at, fes, primaries, mtimes, modes = (
            lay.sizes,
            lay.blocks,
            lay.fes,
            lay.primaries,
            lay.mtimes,
            lay.modes,
        )
        entries: list[bytes | memoryview] = []  # written a batch at a time, one block each
        zeros = memoryview(bytes(BLOCK))
        for node in b.nodes:
            for n in node.idx:
                if primaries[n] < 0:
                    more = lay.aliases_of.get(n)
                    rec = self._file_entry(fes[n], sizes[n], data_at[n], mtimes[n], modes[n], 1 + len(more or ()))
                    entries += (rec, zeros[len(rec) :])
                    if len(entries) >= 2 * ENTRY_BATCH:
                        self.sink.put(b"".join(entries))
                        entries = []
        self.sink.put(b"".join(entries))

    def _file_entry(self, fe_block: int, size: int, data_block: int, mtime_ns: int, mode: int, links: int) -> bytes:
        """A file's entry (less than a block: the caller pads it)."""
        lbn = fe_block - PARTITION_START
        data_lbn = data_block - PARTITION_START if size else 0
        return ecma167.file_entry(lbn, ecma167.FILE_TYPE_FILE, _perms(mode), links, size, data_lbn, mtime_ns, fe_block)

    # ---- path tables and the ISO 9660 / Joliet directories
    def path_tables(self) -> None:
        for view, (le, be) in ((self.b.iso, self.b.iso_pt), (self.b.joliet, self.b.joliet_pt)):
            for start, big in ((le, False), (be, True)):
                self.at(start)
                self.sink.put(b"".join(ecma119.path_table_entry(d.ident, d.extent, d.parent + 1, big) for d in view))

    def directories(self) -> None:
        for view in (self.b.iso, self.b.joliet):
            for d in view:
                self._directory(view, d)

    def _directory(self, view: list[ViewDir], d: ViewDir) -> None:
        """One directory extent: its records packed into one buffer (a record never spans a block)."""
        self.at(d.extent)
        b, date = self.b, self.date
        out = bytearray(d.blocks * BLOCK)
        parent = view[d.parent]
        pos = _pack(out, 0, b"\0", d.extent, d.blocks * BLOCK, FLAG_DIR, date)
        pos = _pack(out, pos, b"\1", parent.extent, parent.blocks * BLOCK, FLAG_DIR, date)
        sizes, data_at, mtimes = b.layout.sizes, b.layout.blocks, b.layout.mtimes
        last, part = -1, 0
        for ident, kind, what in b.records(view, d):
            if kind == FILE_RECORD:
                part = part + 1 if what == last else 0
                last = what
                size, start = sizes[what], part * MULTI_EXTENT_CHUNK
                length = min(MULTI_EXTENT_CHUNK, size - start)
                flags = FLAG_MULTI_EXTENT if start + length < size else 0
                extent = data_at[what] + start // BLOCK if size else 0
                pos = _pack(out, pos, ident, extent, length, flags, self.file_date(mtimes[what]))
            elif kind == DIR_RECORD:
                child = view[what]
                pos = _pack(out, pos, ident, child.extent, child.blocks * BLOCK, FLAG_DIR, date)
            else:
                name = MANIFEST_FILES[what]
                pos = _pack(out, pos, ident, b.manifest_block[name], b.layout.manifest[name], 0, date)
        assert pos <= len(out)
        self.sink.put(out)

    def file_date(self, mtime_ns: int) -> bytes:
        """A file record's date (kept per second: files of one directory often share them)."""
        second = int(mtime_ns / 1e9)
        date = self.dates.get(second)
        if date is None:
            if len(self.dates) >= DATES_KEPT:
                self.dates.clear()
            date = self.dates[second] = ecma119.record_date(second)
        return date

    # ---- data
    def manifests(self, texts: dict[str, Iterable[bytes]]) -> None:
        for name in MANIFEST_FILES:
            self.at(self.b.manifest_block[name] or self.sink.pos // BLOCK)
            start = self.sink.pos
            for data in texts[name]:
                self.sink.put(data)
            assert self.sink.pos - start == self.b.layout.manifest[name], name
            self.sink.pad_to_block()

    def data(self, open_file: OpenFile, progress: Progress) -> None:
        sink = self.sink
        for f in (f for node in self.b.nodes for f in node.files if f.stored):
            src = open_file(f)  # (an empty file is still checked: it exists, it is empty)
            if isinstance(src, bytes):
                if src:
                    if sink.pos != f.block * BLOCK:
                        self.at(f.block)
                    sink.put(src + bytes(-len(src) % BLOCK))
                continue
            if not f.size:
                src.read()
                continue
            self.at(f.block)
            left = f.size
            while left:
                chunk = src.read(min(READ, left))
                if not chunk:
                    raise ValueError(f"short read of {f.udf}")
                sink.put(chunk)
                left -= len(chunk)
                progress(len(chunk))
            sink.pad_to_block()
        self.at(self.b.total_blocks - 1)
        self.sink.put(ecma167.anchor(self.b.total_blocks - 1).ljust(BLOCK, b"\0"))


def write_image(
    blocks: ImageBlocks,
    sink: ImageSink,
    volume_id: str,
    texts: dict[str, Iterable[bytes]],
    open_file: OpenFile,
    progress: Progress = lambda n: None,
    created_ns: int | None = None,
) -> None:
    """Write the whole image of `blocks` into `sink` (which the caller closes); files' times and
    modes are the layout's."""
    w = _Writer(blocks, sink, volume_id, time.time_ns() if created_ns is None else created_ns)
    w.head()
    w.udf()
    w.path_tables()
    w.directories()
    w.manifests(texts)
    w.data(open_file, progress)
    assert sink.pos == blocks.total_blocks * BLOCK, (sink.pos, blocks.total_blocks)
