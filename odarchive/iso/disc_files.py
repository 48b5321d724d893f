"""Loading a planned disc from the catalogue: its placements and further names as a
`DiscLayout`, and its sources."""

from __future__ import annotations

import os

from odarchive.catalogue import Catalogue, images
from odarchive.errors import DiscError
from odarchive.iso.layout import DiscLayout, FileNode
from odarchive.iso.manifest import DiscInfo
from odarchive.iso.placed import Placed, disc_raw_path


def disc_row(cat: Catalogue, disc_id: int) -> tuple[str, int, int, str]:
    """(label, capacity_bytes, used_bytes, state) of a planned disc."""
    r = images.disc_row(cat.conn, disc_id)
    if r is None:
        raise DiscError(
            f"there is no planned disc {disc_id}", hint="see `odarchive num_isos`; plan with `odarchive plan_iso SIZE`"
        )
    return r


def disc_info(cat: Catalogue, disc_id: int, label: str) -> DiscInfo:
    return DiscInfo(cat.meta("archive_id") or "", disc_id, label, cat.chunk_size)


def load_layout(cat: Catalogue, disc_id: int) -> DiscLayout:
    """The disc's placements, then the further names of its whole contents (`disc_names`)."""
    layout = DiscLayout()
    named = images.named_contents(cat.conn, disc_id)
    stored: dict[int, FileNode] = {}  # only the contents with further names: memory stays per file
    for r in images.placements(cat.conn, disc_id):
        placed = Placed(*r)
        node = layout.add(disc_raw_path(placed), placed.length, placed)
        if not placed.piece and placed.content_id in named:
            stored[placed.content_id] = node
    for content_id, raw_path, mtime_ns, mode in images.further_names(cat.conn, disc_id):
        add_name(layout, stored[content_id], raw_path, mtime_ns, mode)
    return layout


def add_name(layout: DiscLayout, primary: FileNode, raw_path: bytes, mtime_ns: int, mode: int) -> FileNode:
    """Add a further name of the content stored as `primary` (same bytes, its own mtime and mode)."""
    p: Placed = primary.placed
    name = Placed(p.content_id, 0, 0, p.length, p.content_sha, p.content_size, mtime_ns, raw_path, mode=mode)
    return layout.add(raw_path, p.length, name, primary=primary)


def source_paths(cat: Catalogue) -> dict[bytes, bytes]:
    """Root name -> the absolute source path last scanned."""
    return images.source_roots(cat.conn)


def source_file(roots: dict[bytes, bytes], raw_path: bytes) -> bytes:
    root, _, rest = raw_path.partition(b"/")
    base = roots.get(root)
    if base is None:
        raise DiscError(f"no source with root name {os.fsdecode(root)!r} for {os.fsdecode(raw_path)!r}")
    return os.path.join(base, rest) if rest else base
