"""The tree of one disc: which files go where, under which name in each of the three views.

A `DiscLayout` is filled with files (archived path, size, an opaque reference for the
builder) and then `finalize()`d, which decides every UDF, ISO 9660 and Joliet name
(`odarchive.iso.names`). The same layout drives the exact size model (`sizing`), the
manifest files (`manifest`) and the image builder (`build`), so the planner and the builder
can never disagree about what is on a disc.

Disc layout: /README.md, /catalogue.json, /SHA256SUMS, /DATA/<root>/... . ISO 9660 allows
7 levels; a directory that would lie deeper is placed under /DEEP/Dnnnnnn in the ISO view
only (UDF and Joliet keep the real tree).
"""

from __future__ import annotations

from typing import Any, Iterator

from odarchive.iso import names

DATA_DIR = "DATA"
DEEP_DIR = "DEEP"
MANIFEST_FILES = ("README.md", "catalogue.json", "SHA256SUMS")
ISO_MAX_DIR_DEPTH = 6  # a directory holding files may be at most 6 levels deep (its files at 7)


class FileNode:
    """A name on the disc. A stored file has its own data; a further name of the same content
    (`primary` set) shares the stored file's entry and extent and adds only records."""

    __slots__ = ("raw_name", "size", "ref", "udf", "iso", "joliet", "memo", "block", "fe", "primary", "aliases")

    def __init__(self, raw_name: bytes, size: int, ref: Any, primary: "FileNode | None" = None) -> None:
        self.raw_name = raw_name
        self.size = size
        self.ref = ref
        self.udf = self.iso = self.joliet = ""
        self.memo: Any = None  # the manifest's cache of this file's lines (see manifest.file_line)
        self.block = 0  # the first block of its data in the image (set by `blocks.ImageBlocks`)
        self.fe = 0  # the block of its UDF file entry (set by `blocks.ImageBlocks`)
        self.primary = primary  # the stored file whose content this further name shows
        self.aliases: list[FileNode] | None = None  # a stored file's further names


class DirNode:
    __slots__ = ("raw_name", "subdirs", "files", "udf", "iso", "joliet", "iso_parent", "iso_depth")

    def __init__(self, raw_name: bytes) -> None:
        self.raw_name = raw_name
        self.subdirs: dict[bytes, DirNode] = {}
        self.files: list[FileNode] = []
        self.udf = self.iso = self.joliet = ""
        self.iso_parent: DirNode | None = None
        self.iso_depth = 0


class DiscLayout:
    """The files of one disc under /DATA plus the three manifest files at the top."""

    def __init__(self) -> None:
        self.data = DirNode(DATA_DIR.encode())
        self.manifest: dict[str, int] = {name: 0 for name in MANIFEST_FILES}
        self.n_files = 0  # stored files (each with its data)
        self.n_names = 0  # further names of stored files (dedup)
        self.data_bytes = 0
        self._final = False
        self.deep: list[DirNode] = []  # directories relocated under /DEEP in the ISO view

    def add(self, raw_path: bytes, size: int, ref: Any, primary: FileNode | None = None) -> FileNode:
        """Add a file at archived path `raw_path` (b"root/dir/name"), `size` bytes; with
        `primary`, a further name of that stored file's content (no data of its own)."""
        *dirs, name = raw_path.split(b"/")
        node = self.data
        for part in dirs:
            sub = node.subdirs.get(part)
            if sub is None:
                sub = node.subdirs[part] = DirNode(part)
            node = sub
        f = FileNode(name, size, ref, primary)
        node.files.append(f)
        if primary is None:
            self.n_files += 1
            self.data_bytes += size
        else:
            primary.aliases = (primary.aliases or []) + [f]
            self.n_names += 1
        self._final = False
        return f

    def remove(self, raw_path: bytes, node: FileNode) -> None:
        """Undo `add` of `node` (the planner's trial placements), pruning emptied directories."""
        *dirs, _ = raw_path.split(b"/")
        chain = [self.data]
        for part in dirs:
            chain.append(chain[-1].subdirs[part])
        chain[-1].files.remove(node)
        if node.primary is not None:
            node.primary.aliases = [a for a in node.primary.aliases or () if a is not node] or None
            self.n_names -= 1
        else:
            self.n_files -= 1
            self.data_bytes -= node.size
        for parent, child, part in zip(reversed(chain[:-1]), reversed(chain[1:]), reversed(dirs)):
            if child.files or child.subdirs:
                break
            del parent.subdirs[part]
        self._final = False

    def set_manifest_sizes(self, sizes: dict[str, int]) -> None:
        self.manifest.update(sizes)

    # ---- naming ----
    def finalize(self) -> None:
        """Decide every name in every view (idempotent until more files are added)."""
        if self._final:
            return
        self.deep = []
        self.data.udf = self.data.iso = self.data.joliet = DATA_DIR
        self.data.iso_depth = 1
        stack = [self.data]
        while stack:
            node = stack.pop()
            self._name_children(node)
            stack.extend(node.subdirs.values())
        self._final = True

    def _name_children(self, node: DirNode) -> None:
        udf_taken: set[str] = set()
        iso_taken: set[str] = set()
        jol_taken: set[str] = set()
        for raw in sorted(node.subdirs):
            d = node.subdirs[raw]
            d.udf = names.udf_name(raw, udf_taken)
            d.joliet = names.joliet_name(d.udf, jol_taken)
            if node.iso_depth + 1 > ISO_MAX_DIR_DEPTH:
                d.iso = f"D{len(self.deep):06d}"
                d.iso_depth = 2
                self.deep.append(d)
            else:
                d.iso = names.iso_dir_name(d.udf, iso_taken)
                d.iso_parent = node
                d.iso_depth = node.iso_depth + 1
        node.files.sort(key=lambda f: f.raw_name)
        for f in node.files:
            f.udf = names.udf_name(f.raw_name, udf_taken)
            f.joliet = names.joliet_name(f.udf, jol_taken)
            f.iso = names.iso_file_name(f.udf, iso_taken)

    # ---- walking ----
    def dirs(self) -> Iterator[tuple[DirNode, str, str, str]]:
        """Every directory under /DATA (DATA first, parents before children) with its
        (UDF, Joliet, ISO) absolute paths."""
        self.finalize()
        stack: list[tuple[DirNode, str, str, str]] = [(self.data, "/" + DATA_DIR, "/" + DATA_DIR, "/" + DATA_DIR)]
        while stack:
            node, udf, jol, iso = stack.pop()
            yield node, udf, jol, iso
            for d in sorted(node.subdirs.values(), key=lambda d: d.raw_name, reverse=True):
                d_iso = f"{iso}/{d.iso}" if d.iso_parent is not None else f"/{DEEP_DIR}/{d.iso}"
                stack.append((d, f"{udf}/{d.udf}", f"{jol}/{d.joliet}", d_iso))

    def file_nodes(self) -> Iterator[FileNode]:
        """Every data file, in no particular order (no paths built)."""
        stack = [self.data]
        while stack:
            node = stack.pop()
            yield from node.files
            stack.extend(node.subdirs.values())

    def files(self) -> Iterator[tuple[FileNode, str, str, str]]:
        """Every data file with its (UDF, Joliet, ISO) absolute paths."""
        for node, udf, jol, iso in self.dirs():
            for f in node.files:
                yield f, f"{udf}/{f.udf}", f"{jol}/{f.joliet}", f"{iso}/{f.iso}"
