"""The exact size of a disc image (ISO 9660 + Joliet + UDF 2.60) as our writer lays it out,
which is also how pycdlib 1.22.0 does (`odarchive.iso.blocks` places the blocks counted here).

`image_blocks(layout)` counts 2048-byte blocks in the order pycdlib's `_reshuffle_extents`
assigns them: the fixed area (system area, volume descriptors, UDF anchor and descriptor sequences,
up to the file set descriptor), then the UDF file entries and directory data, the ISO 9660
and Joliet path tables (allocated in pairs of blocks, little- and big-endian copies), the
ISO 9660 and Joliet directory extents (records never span a block), the file data (each file
rounded up to a block; empty files take none; further names of a stored content take records
only) and the closing UDF anchor. Tests build random
trees with pycdlib and with our writer and check this model against both, block for block.
The planner's cheap incremental upper bound lives in `odarchive.plan.fill`.
"""

from __future__ import annotations

from odarchive.iso import names
from odarchive.iso.ecma119 import record_len as iso_record_len
from odarchive.iso.layout import DATA_DIR, DEEP_DIR, MANIFEST_FILES, DirNode, DiscLayout

BLOCK = 2048
# pycdlib lays out: VDs at 16.., UDF VDS at 32 and 48, integrity at 64, anchor at 256, file set
# descriptor 257 and its terminator 258; the next free block is 259.
FIXED_HEAD_BLOCKS = 259
CLOSING_ANCHOR_BLOCKS = 1
MULTI_EXTENT_CHUNK = 0xFFFFF800  # pycdlib's largest single ISO 9660 extent
UDF_PARENT_FID = 40  # the '..' file identifier descriptor
MANIFEST_ISO = {"README.md": "README.MD;1", "catalogue.json": "CATALOGUE.JSON;1", "SHA256SUMS": "SHA256SUMS.;1"}


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def data_blocks(size: int) -> int:
    return ceil_div(size, BLOCK)


def udf_fid_len(name: str) -> int:
    n = 38 + names.udf_fi_length(name)
    return n + (-n % 4)


def extent_count(size: int) -> int:
    return 1 if size <= MULTI_EXTENT_CHUNK else ceil_div(size, MULTI_EXTENT_CHUNK)


def pack_blocks(record_lengths: list[int]) -> int:
    """Blocks used by directory records that may not span a block boundary."""
    blocks, offset = 1, 0
    for n in record_lengths:
        if offset + n > BLOCK:
            blocks += 1
            offset = 0
        offset += n
    return blocks


def path_table_blocks(total_bytes: int) -> int:
    """Blocks for both copies (LE and BE) of one path table, allocated in pairs of blocks."""
    return 2 * (ceil_div(ceil_div(total_bytes, BLOCK), 2) * 2)


def pt_entry(ident_len: int) -> int:
    return 8 + ident_len + (ident_len % 2)


def image_blocks(layout: DiscLayout) -> int:
    """The exact number of 2048-byte blocks of the image pycdlib writes for `layout`."""
    layout.finalize()
    total = FIXED_HEAD_BLOCKS + CLOSING_ANCHOR_BLOCKS
    total += sum(data_blocks(layout.manifest[n]) for n in MANIFEST_FILES)
    nodes = [node for node, *_ in layout.dirs()]
    sizes, primaries = layout.sizes, layout.primaries
    total += sum(data_blocks(sizes[n]) for node in nodes for n in node.idx if primaries[n] < 0)
    total += _udf_blocks(layout, nodes)
    total += _joliet_blocks(layout, nodes)
    total += _iso_blocks(layout, nodes)
    return total


def image_bytes(layout: DiscLayout) -> int:
    return image_blocks(layout) * BLOCK


def _udf_blocks(layout: DiscLayout, nodes: list[DirNode]) -> int:
    """A file entry per directory and per stored file (further names of a content share its
    entry: only their identifiers count); each directory's FIDs may span blocks."""
    root_fids = UDF_PARENT_FID + udf_fid_len(DATA_DIR) + sum(udf_fid_len(n) for n in MANIFEST_FILES)
    blocks = 1 + ceil_div(root_fids, BLOCK) + len(MANIFEST_FILES)
    for node in nodes:
        fids = UDF_PARENT_FID + sum(udf_fid_len(d.udf) for d in node.subdirs.values())
        fids += sum(udf_fid_len(name) for name in node.name_lists()[0])
        blocks += 1 + ceil_div(fids, BLOCK) + sum(layout.primaries[n] < 0 for n in node.idx)
    return blocks


def _pack_sorted(items: list[tuple[bytes, int]]) -> int:
    """Blocks of one directory: '.', '..', then records sorted by identifier bytes."""
    items.sort(key=lambda it: it[0])
    return pack_blocks([34, 34, *(n for _, n in items)])


def _rec(ident: bytes, copies: int = 1) -> list[tuple[bytes, int]]:
    return [(ident, iso_record_len(len(ident)))] * copies


def _joliet_blocks(layout: DiscLayout, nodes: list[DirNode]) -> int:
    """Joliet mirrors the UDF tree; identifiers are UCS-2 (2 bytes a character)."""
    root: list[tuple[bytes, int]] = []
    for name in (DATA_DIR, *MANIFEST_FILES):
        root += _rec(name.encode("utf-16-be"))
    blocks = _pack_sorted(root)
    pt = pt_entry(1)
    for node in nodes:
        items: list[tuple[bytes, int]] = []
        for d in node.subdirs.values():
            items += _rec(d.joliet.encode("utf-16-be"))
        for n, name in zip(node.idx, node.name_lists()[1]):
            items += _rec(name.encode("utf-16-be"), extent_count(layout.sizes[n]))
        blocks += _pack_sorted(items)
        pt += pt_entry(len(node.joliet.encode("utf-16-be")))
    return blocks + path_table_blocks(pt)


def _iso_blocks(layout: DiscLayout, nodes: list[DirNode]) -> int:
    """ISO 9660: DATA's tree, directories deeper than 6 levels moved under /DEEP."""
    root = _rec(DATA_DIR.encode())
    for name in MANIFEST_FILES:
        root += _rec(MANIFEST_ISO[name].encode())
    pt = pt_entry(1)
    blocks = 0
    if layout.deep:
        root += _rec(DEEP_DIR.encode())
        blocks += _pack_sorted([it for d in layout.deep for it in _rec(d.iso.encode())])
        pt += pt_entry(len(DEEP_DIR))
    blocks += _pack_sorted(root)
    for node in nodes:
        items: list[tuple[bytes, int]] = []
        for d in node.subdirs.values():
            if d.iso_parent is not None:
                items += _rec(d.iso.encode())
        for n, name in zip(node.idx, node.name_lists()[2]):
            items += _rec(name.encode(), extent_count(layout.sizes[n]))
        blocks += _pack_sorted(items)
        pt += pt_entry(len(node.iso))
    return blocks + path_table_blocks(pt)
