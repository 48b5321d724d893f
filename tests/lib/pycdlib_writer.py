"""The oracle: put a finalized `DiscLayout` into a new pycdlib object (ISO 9660 level 3 + Joliet
+ UDF 2.60), as odarchive wrote its images before it had its own streaming writer. Tests lay
out the same trees with pycdlib to check the size model (`odarchive.iso.sizing`) and our writer
(`odarchive.iso.writer`) block for block.

Files are added in the order each view sorts its directory records, so that pycdlib appends
records instead of re-packing a whole directory per insertion (which is quadratic: 100,000
files in one directory took 190 s unsorted, 17 s sorted). When a directory's ISO 9660 and
Joliet orders agree (the usual case) each file is added with one call; otherwise the ISO 9660
and UDF records are added in ISO order and the Joliet records then linked to the same data in
Joliet order. Multi-extent files (over 4 GiB) always get all three records in one call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from odarchive.iso.layout import DATA_DIR, DEEP_DIR, MANIFEST_FILES, DirNode, DiscLayout, FileNode
from odarchive.iso.sizing import MANIFEST_ISO, extent_count

OpenFile = Callable[[FileNode], BinaryIO]


def new_image(volume_label: str) -> Any:
    import pycdlib

    iso = pycdlib.PyCdlib()
    iso.new(
        interchange_level=3,
        joliet=3,
        udf="2.60",
        vol_ident=volume_label,
        app_ident_str="odarchive",
        sys_ident="LINUX",
    )
    return iso


@contextmanager
def _fast_normpath() -> Iterator[None]:
    """pycdlib normalises every path of every record (three per file) with a pure-Python
    normpath; ours are normal already (absolute, no '.', '..' or '//'), so while we add them a
    shortcut returns them as they are and leaves any other path to pycdlib's own function. It
    makes adding 50,000 files 35% faster (8.5 s -> 5.5 s) and cannot change a result: for such
    paths normalisation is the identity."""
    import pycdlib.utils

    original = pycdlib.utils.normpath

    def normpath(path: str) -> bytes:
        if path.startswith("/") and "//" not in path and "/." not in path and not path.endswith("/"):
            return path.encode("utf-8")
        return original(path)

    pycdlib.utils.normpath = normpath
    try:
        yield
    finally:
        pycdlib.utils.normpath = original


def populate(iso: Any, layout: DiscLayout, open_file: OpenFile, manifest: dict[str, BinaryIO]) -> None:
    """Add the manifest files, every directory and every file of `layout` to `iso`."""
    with _fast_normpath():
        _populate(iso, layout, open_file, manifest)


def _populate(iso: Any, layout: DiscLayout, open_file: OpenFile, manifest: dict[str, BinaryIO]) -> None:
    for name in sorted(MANIFEST_FILES, key=lambda n: MANIFEST_ISO[n]):
        iso.add_fp(
            manifest[name],
            layout.manifest[name],
            iso_path="/" + MANIFEST_ISO[name],
            joliet_path="/" + name,
            udf_path="/" + name,
        )
    dirs = list(layout.dirs())
    iso.add_directory(iso_path="/" + DATA_DIR, joliet_path="/" + DATA_DIR, udf_path="/" + DATA_DIR)
    if layout.deep:
        iso.add_directory(iso_path="/" + DEEP_DIR)
    for _node, udf, jol, iso_path in dirs[1:]:
        iso.add_directory(iso_path=iso_path, joliet_path=jol, udf_path=udf)
    for node, udf, jol, iso_path in extent_order(dirs):
        iso_order = sorted(node.files, key=lambda f: f.iso)
        jol_order = sorted(node.files, key=lambda f: f.joliet.encode("utf-16-be"))
        together = all(a is b for a, b in zip(iso_order, jol_order))  # the usual case: one call each
        for f in iso_order:
            one_call = together or extent_count(f.size) > 1
            iso.add_fp(
                open_file(f),
                f.size,
                iso_path=f"{iso_path}/{f.iso}",
                udf_path=f"{udf}/{f.udf}",
                joliet_path=f"{jol}/{f.joliet}" if one_call else None,
            )
        if not together:
            for f in jol_order:
                if extent_count(f.size) == 1:
                    iso.add_hard_link(iso_old_path=f"{iso_path}/{f.iso}", joliet_new_path=f"{jol}/{f.joliet}")


Dir = tuple[DirNode, str, str, str]


def extent_order(dirs: list[Dir]) -> list[Dir]:
    """Directories in the order pycdlib lays out their files' data: breadth first over the
    ISO 9660 tree, siblings by identifier. Adding files in this order makes pycdlib write the
    data sequentially (and lets the image be hashed as it is written)."""
    children: dict[str, list[Dir]] = {}
    for d in dirs:
        children.setdefault(d[3].rsplit("/", 1)[0], []).append(d)
    queue = ["/" + DATA_DIR, "/" + DEEP_DIR]
    by_path = {d[3]: d for d in dirs}
    out: list[Dir] = []
    for path in queue:  # grows while iterated: breadth first
        if path in by_path:
            out.append(by_path[path])
        queue.extend(c[3] for c in sorted(children.get(path, []), key=lambda c: c[3].rsplit("/", 1)[1]))
    return out
