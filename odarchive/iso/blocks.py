"""Where everything of an image lies, block by block: `ImageBlocks(layout)`.

The order (the one `sizing` counts, and the one pycdlib 1.22.0 uses):

    0-15 system area   16 primary VD   17 Joliet VD   18 terminator   19-21 UDF recognition
    32-47 UDF main sequence   48-63 reserve sequence   64-65 integrity   256 anchor
    257 file set descriptor (partition block 0, the partition starts here)   258 terminator
    UDF: each directory's file entry then its identifiers (/, then the layout's directories
         in `DiscLayout.dirs()` order), then one file entry per stored file (the manifest
         files, then the data files in `DiscLayout.files()` order; further names of a content
         have identifiers pointing at its entry, and records pointing at its extent)
    path tables: ISO 9660 LE, BE, Joliet LE, BE (each copy an even number of blocks)
    ISO 9660 directories, breadth first, siblings by identifier; Joliet directories likewise
    data: the manifest files, then every stored file in `DiscLayout.files()` order
    the closing UDF anchor (the last block)

Memory: per directory a few numbers (dicts keyed by the node's id); per file only its data
block and entry block (`FileNode.block`, `.fe`). Directory records are generated again by the writer when it writes
them, so nothing per file is kept but that number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from odarchive.iso import sizing
from odarchive.iso.ecma167 import fi_bytes, fid_length
from odarchive.iso.layout import DATA_DIR, DEEP_DIR, MANIFEST_FILES, DirNode, DiscLayout, FileNode
from odarchive.iso.sizing import BLOCK, MANIFEST_ISO, ceil_div, extent_count, iso_record_len, pack_blocks

PARTITION_START = 257
FIRST_FREE = sizing.FIXED_HEAD_BLOCKS
ROOT = "/"  # the key of the image's root directory in the per-view tables
DIR_RECORD, MANIFEST_RECORD, FILE_RECORD = 0, 1, 2  # what a directory record of `records` shows


@dataclass
class ViewDir:
    """One directory of the ISO 9660 or the Joliet tree."""

    ident: bytes  # b"\0" for the root
    node: DirNode | None  # None: the root or /DEEP
    parent: int  # index (0-based) of the parent in the view's list; the root is its own parent
    children: list[int] = field(default_factory=list)
    extent: int = 0
    blocks: int = 0


class ImageBlocks:
    """Block positions of every structure of the image of a finalized `DiscLayout`."""

    def __init__(self, layout: DiscLayout) -> None:
        layout.finalize()
        self.layout = layout
        self.nodes = [node for node, *_ in layout.dirs()]
        self.deep = list(layout.deep)
        block = FIRST_FREE
        # ---- UDF: directories (file entry + identifiers), then file entries
        self.udf_fe: dict[int, int] = {}  # id(node) (or ROOT) -> block of its file entry
        self.udf_fid_bytes: dict[int, int] = {}
        root_fids = 40 + fid_length(len(fi_bytes(DATA_DIR))) + sum(fid_length(len(fi_bytes(n))) for n in MANIFEST_FILES)
        self.udf_root_fe, self.udf_root_fids = block, root_fids
        block += 1 + ceil_div(root_fids, BLOCK)
        n_files = 0
        sizes, primaries, fes, data_at = layout.sizes, layout.primaries, layout.fes, layout.blocks
        for node in self.nodes:
            fids = 40 + sum(fid_length(len(fi_bytes(d.udf))) for d in node.subdirs.values())
            fids += sum(fid_length(len(fi_bytes(name))) for name in node.name_lists()[0])
            self.udf_fe[id(node)], self.udf_fid_bytes[id(node)] = block, fids
            block += 1 + ceil_div(fids, BLOCK)
        self.file_fe_base = block
        block += len(MANIFEST_FILES)
        for node in self.nodes:  # a file entry per stored file; its further names share it
            for n in node.idx:
                if primaries[n] < 0:
                    fes[n] = block
                    block += 1
                    n_files += 1
        self.n_files, self.n_dirs = n_files + len(MANIFEST_FILES), len(self.nodes) + 1
        # ---- path tables, then the directories of both views
        self.iso = self._iso_tree()
        self.joliet = self._joliet_tree()
        self.iso_pt_bytes = sum(sizing.pt_entry(len(d.ident)) for d in self.iso)
        self.joliet_pt_bytes = sum(sizing.pt_entry(len(d.ident)) for d in self.joliet)
        self.pt_blocks = {}
        for name, n in (("iso", self.iso_pt_bytes), ("joliet", self.joliet_pt_bytes)):
            self.pt_blocks[name] = sizing.path_table_blocks(n) // 2
        self.iso_pt = (block, block + self.pt_blocks["iso"])
        block += 2 * self.pt_blocks["iso"]
        self.joliet_pt = (block, block + self.pt_blocks["joliet"])
        block += 2 * self.pt_blocks["joliet"]
        for view in (self.iso, self.joliet):
            for d in view:
                d.extent = block
                d.blocks = pack_blocks([34, 34, *self._record_lengths(view, d)])
                block += d.blocks
        # ---- data: manifest files, then the data files
        self.manifest_block: dict[str, int] = {}
        for name in MANIFEST_FILES:
            self.manifest_block[name] = block if layout.manifest[name] else 0
            block += sizing.data_blocks(layout.manifest[name])
        self.data_start = block
        for node in self.nodes:
            for n in node.idx:
                if primaries[n] < 0:
                    data_at[n] = block if sizes[n] else 0
                    block += sizing.data_blocks(sizes[n])
        for node in self.nodes:
            for n in node.idx:
                p = primaries[n]
                if p >= 0:
                    data_at[n], fes[n] = data_at[p], fes[p]
        self.data_end = block
        self.total_blocks = block + 1  # the closing anchor

    # ---- the two ISO-style trees
    def _iso_tree(self) -> list[ViewDir]:
        def children(d: ViewDir) -> list[ViewDir]:
            if d.node is None and d.ident == b"\0":
                kids = [ViewDir(DATA_DIR.encode(), self.layout.data, 0)]
                return kids + ([ViewDir(DEEP_DIR.encode(), None, 0)] if self.deep else [])
            nodes = self.deep if d.node is None else [s for s in d.node.subdirs.values() if s.iso_parent is not None]
            return [ViewDir(s.iso.encode(), s, 0) for s in nodes]

        return _breadth_first(children)

    def _joliet_tree(self) -> list[ViewDir]:
        def children(d: ViewDir) -> list[ViewDir]:
            if d.node is None:
                return [ViewDir(DATA_DIR.encode("utf-16-be"), self.layout.data, 0)]
            return [ViewDir(s.joliet.encode("utf-16-be"), s, 0) for s in d.node.subdirs.values()]

        return _breadth_first(children)

    def records(self, view: list[ViewDir], d: ViewDir) -> list[tuple[bytes, int, int]]:
        """(identifier, kind, what) of a directory's records after '.' and '..', sorted by
        identifier: a subdirectory (`DIR_RECORD`, its index in `view`), a manifest file
        (`MANIFEST_RECORD`, its index in MANIFEST_FILES) or a data file (`FILE_RECORD`, its
        number; one record per 4 GiB extent of a large file)."""
        joliet = view is self.joliet
        out = [(view[c].ident, DIR_RECORD, c) for c in d.children]
        if d.node is None and d.ident == b"\0":
            for i, name in enumerate(MANIFEST_FILES):
                out.append((name.encode("utf-16-be") if joliet else MANIFEST_ISO[name].encode(), MANIFEST_RECORD, i))
        elif d.node is not None:
            sizes, chunk = self.layout.sizes, sizing.MULTI_EXTENT_CHUNK
            idents = d.node.name_lists()[1 if joliet else 2]
            codec = "utf-16-be" if joliet else "utf-8"
            for n, name in zip(d.node.idx, idents):
                rec = (name.encode(codec), FILE_RECORD, n)
                out.append(rec)
                if sizes[n] > chunk:
                    out += [rec] * (extent_count(sizes[n]) - 1)
        out.sort(key=_ident)
        return out

    def _record_lengths(self, view: list[ViewDir], d: ViewDir) -> list[int]:
        """The lengths of `records(view, d)`, in the same order."""
        return [iso_record_len(len(ident)) for ident, _, _ in self.records(view, d)]

    # ---- file positions
    def manifest_fe(self, index: int) -> int:
        """Block of the file entry of manifest file number `index` (README.md, ...)."""
        return self.file_fe_base + index

    def extents(self, f: FileNode) -> list[tuple[int, int]]:
        """(byte offset, length) of each ISO 9660 extent of a data file in the image."""
        return file_extents(f.block, f.size)


def file_extents(block: int, size: int) -> list[tuple[int, int]]:
    chunk = sizing.MULTI_EXTENT_CHUNK
    return [(block * BLOCK + i * chunk, min(chunk, size - i * chunk)) for i in range(extent_count(size))]


def _ident(record: tuple[bytes, int, int]) -> bytes:
    return record[0]


def _breadth_first(children) -> list[ViewDir]:  # children: Callable[[ViewDir], list[ViewDir]]
    out = [ViewDir(b"\0", None, 0)]
    i = 0
    while i < len(out):
        kids = sorted(children(out[i]), key=lambda d: d.ident)
        for k in kids:
            k.parent = i
            out[i].children.append(len(out))
            out.append(k)
        i += 1
    return out
