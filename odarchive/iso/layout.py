"""The tree of one disc: which files go where, under which name in each of the three views.

A `DiscLayout` is filled with files (archived path, size, the `Placed` row it shows or None)
and then `finalize()`d, which decides every UDF, ISO 9660 and Joliet name
(`odarchive.iso.names`). The same layout drives the exact size model (`sizing`), the
manifest files (`manifest`) and the image builder (`build`), so the planner and the builder
can never disagree about what is on a disc.

Disc layout: /README.md, /catalogue.json, /SHA256SUMS, /DATA/<root>/... . ISO 9660 allows
7 levels; a directory that would lie deeper is placed under /DEEP/Dnnnnnn in the ISO view
only (UDF and Joliet keep the real tree).

Memory (a disc may hold millions of files): nothing is kept as a Python object per file.
A file is a number; its fields live in typed arrays of the layout (`array`, 8 bytes a number,
32 bytes a hash) and its names in one joined string per directory and view. `FileNode` is a
short-lived view of one file, made while a directory is walked (`DirNode.files`); about
180 bytes a file in all (measured), where objects per file took about 700.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator

from odarchive.iso import names
from odarchive.iso.placed import PIECE_SUFFIX, Placed

DATA_DIR = "DATA"
DEEP_DIR = "DEEP"
MANIFEST_FILES = ("README.md", "catalogue.json", "SHA256SUMS")
ISO_MAX_DIR_DEPTH = 6  # a directory holding files may be at most 6 levels deep (its files at 7)
SEP = "\0"  # joins names in a directory's name strings (no name holds it)
NO_REF = -1  # content id column of a file added without a `Placed` (tests, the planner's trials)


class DirNode:
    """A directory under /DATA: its subdirectories, its files (numbers, sorted by raw name once
    finalized) and, once finalized, its own and its files' names in the three views."""

    __slots__ = (
        "idx",
        "iso",
        "iso_depth",
        "iso_parent",
        "joliet",
        "layout",
        "memo",
        "named_version",
        "names",
        "raw",
        "raw_name",
        "raw_path",
        "subdirs",
        "udf",
        "version",
    )

    def __init__(self, layout: DiscLayout, raw_name: bytes, raw_path: bytes) -> None:
        self.raw_name = raw_name
        self.raw_path = raw_path  # the archived path (b"" for DATA itself)
        self.subdirs: dict[bytes, DirNode] = {}
        self.layout = layout
        self.idx = array("q")  # file numbers
        self.raw = bytearray()  # their raw names, each followed by a NUL byte, in `idx` order
        self.names: tuple[str, str, str] = ("", "", "")  # UDF, Joliet, ISO names of the files, SEP-joined
        self.udf = self.iso = self.joliet = ""
        self.iso_parent: DirNode | None = None
        self.iso_depth = 0
        # `version` changes with every change of its files, their further names or its
        # subdirectories; `finalize` names the children of a directory again only when it
        # changed, and the manifest keeps the sizes of its lines in `memo` for a version
        self.version = 0
        self.named_version = -1
        self.memo: object = None

    def raw_names(self) -> list[bytes]:
        return bytes(self.raw).split(b"\0")[:-1]

    def name_lists(self) -> tuple[list[str], list[str], list[str]]:
        """The UDF, Joliet and ISO names of the files, in `idx` order (once finalized)."""
        if not self.idx:
            return [], [], []
        udf, jol, iso = self.names
        return udf.split(SEP), jol.split(SEP), iso.split(SEP)

    @property
    def files(self) -> list[FileNode]:
        """Views of this directory's files, in order (made on each call)."""
        lay = self.layout
        raws = self.raw_names()
        if lay._final:
            udf, jol, iso = self.name_lists()
        else:
            udf = jol = iso = [""] * len(raws)
        return [FileNode(lay, n, self, raw, u, j, i) for n, raw, u, j, i in zip(self.idx, raws, udf, jol, iso)]

    def _set_files(self, idx: list[int], raws: list[bytes]) -> None:
        self.idx = array("q", idx)
        self.raw = bytearray(b"".join(r + b"\0" for r in raws))


class FileNode:
    """A view of one file of a layout. A stored file has its own data; a further name of the
    same content (`primary` set) shares the stored file's entry and extent and adds only
    records. Views of the same file compare equal."""

    __slots__ = ("iso", "joliet", "lay", "n", "node", "raw_name", "udf")

    def __init__(
        self,
        lay: DiscLayout,
        n: int,
        node: DirNode | None,
        raw_name: bytes = b"",
        udf: str = "",
        joliet: str = "",
        iso: str = "",
    ) -> None:
        self.lay, self.n, self.node, self.raw_name = lay, n, node, raw_name
        self.udf, self.joliet, self.iso = udf, joliet, iso

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FileNode) and other.lay is self.lay and other.n == self.n

    def __hash__(self) -> int:
        return hash(self.n)

    @property
    def size(self) -> int:
        return self.lay.sizes[self.n]

    @property
    def block(self) -> int:
        """The first block of its data in the image (set by `blocks.ImageBlocks`)."""
        return self.lay.blocks[self.n]

    @block.setter
    def block(self, value: int) -> None:
        self.lay.blocks[self.n] = value

    @property
    def fe(self) -> int:
        """The block of its UDF file entry (set by `blocks.ImageBlocks`)."""
        return self.lay.fes[self.n]

    @fe.setter
    def fe(self, value: int) -> None:
        self.lay.fes[self.n] = value

    @property
    def primary(self) -> FileNode | None:
        """The stored file whose content this further name shows (None: a stored file)."""
        p = self.lay.primaries[self.n]
        return None if p < 0 else self.lay.file_view(p)

    @property
    def aliases(self) -> list[FileNode] | None:
        """A stored file's further names."""
        more = self.lay.aliases_of.get(self.n)
        return [self.lay.file_view(a) for a in more] if more else None

    @property
    def mtime_ns(self) -> int:
        return self.lay.mtimes[self.n]

    @property
    def mode(self) -> int:
        return self.lay.modes[self.n]

    @property
    def content_id(self) -> int:
        return self.lay.cids[self.n]

    @property
    def content_sha(self) -> bytes:
        return bytes(self.lay.shas[32 * self.n : 32 * self.n + 32])

    @property
    def stored(self) -> bool:
        """Whether this is a stored file (not a further name of one): `primary is None`."""
        return self.lay.primaries[self.n] < 0

    @property
    def is_piece(self) -> bool:
        return self.n in self.lay.pieces

    @property
    def raw_path(self) -> bytes:
        """The archived path of the source file it shows (`ref.raw_path`, without making `ref`)."""
        lay, n = self.lay, self.n
        raw = self.raw_name or lay._raw_name(n)
        if n in lay.pieces:
            raw = raw[: -len(PIECE_SUFFIX.format(lay.pieces[n][0]))]
        node = self.node or lay._home[n]
        return node.raw_path + b"/" + raw if node.raw_path else raw

    @property
    def placed(self) -> Placed:
        """The `Placed` row of a file that shows a source file (every file but the manifest's)."""
        ref = self.ref
        if ref is None:
            raise ValueError(f"{self.raw_path!r} shows no source file")
        return ref

    @property
    def ref(self) -> Placed | None:
        """The `Placed` row this file shows (made again on each call), or None."""
        lay, n = self.lay, self.n
        cid = lay.cids[n]
        if cid == NO_REF:
            return None
        size = lay.sizes[n]
        piece, offset, content_size, piece_sha = lay.pieces.get(n) or (0, 0, size, None)
        return Placed(
            cid,
            piece,
            offset,
            size,
            bytes(lay.shas[32 * n : 32 * n + 32]),
            content_size,
            lay.mtimes[n],
            self.raw_path,
            piece_sha,
            lay.modes[n],
        )


class DiscLayout:
    """The files of one disc under /DATA plus the three manifest files at the top."""

    def __init__(self) -> None:
        self.data = DirNode(self, DATA_DIR.encode(), b"")
        self.manifest: dict[str, int] = {name: 0 for name in MANIFEST_FILES}
        self.n_files = 0  # stored files (each with its data)
        self.n_names = 0  # further names of stored files (dedup)
        self.data_bytes = 0
        self._final = False
        self.deep: list[DirNode] = []  # directories relocated under /DEEP in the ISO view
        # per file number: columns
        # (sizes, primaries, blocks, fes: read and set by `sizing` and `blocks`, per file number)
        self.sizes, self.cids, self.mtimes = array("q"), array("q"), array("q")
        self.modes = array("I")
        self.blocks, self.fes, self.primaries = array("q"), array("q"), array("q")
        self.shas = bytearray()  # 32 bytes a file
        self.pieces: dict[int, tuple[int, int, int, bytes | None]] = {}  # (piece, offset, content size, piece hash)
        self.aliases_of: dict[int, list[int]] = {}  # stored file -> its further names
        self._home: dict[int, DirNode] = {}  # directory of the files that take part in further names

    def add(self, raw_path: bytes, size: int, ref: Placed | None, primary: FileNode | None = None) -> FileNode:
        """Add a file at archived path `raw_path` (b"root/dir/name"), `size` bytes, showing
        `ref`; with `primary`, a further name of that stored file's content (no data of its own)."""
        *dirs, name = raw_path.split(b"/")
        node = self.data
        for part in dirs:
            sub = node.subdirs.get(part)
            if sub is None:
                sub = node.subdirs[part] = DirNode(self, part, node.raw_path + b"/" + part if node.raw_path else part)
                node.version += 1
            node = sub
        n = len(self.sizes)
        self.sizes.append(size)
        self.blocks.append(0)
        self.fes.append(0)
        self.primaries.append(primary.n if primary is not None else -1)
        if ref is None:
            self.cids.append(NO_REF)
            self.mtimes.append(0)
            self.modes.append(0o100644)
            self.shas += bytes(32)
        else:
            self.cids.append(ref.content_id)
            self.mtimes.append(ref.mtime_ns)
            self.modes.append(ref.mode)
            self.shas += ref.content_sha.ljust(32, b"\0")[:32]
            if ref.piece:
                self.pieces[n] = (ref.piece, ref.offset, ref.content_size, ref.piece_sha)
        node.idx.append(n)
        node.raw += name + b"\0"
        node.version += 1
        if primary is None:
            self.n_files += 1
            self.data_bytes += size
        else:
            self.aliases_of.setdefault(primary.n, []).append(n)
            self._home[n] = node
            home = self._home[primary.n] = primary.node or self._home[primary.n]
            home.version += 1  # (the stored file's line lists its further names)
            self.n_names += 1
        self._final = False
        return FileNode(self, n, node, name)

    def remove(self, raw_path: bytes, node: FileNode) -> None:
        """Undo `add` of `node` (the planner's trial placements), pruning emptied directories."""
        *dirs, _ = raw_path.split(b"/")
        chain = [self.data]
        for part in dirs:
            chain.append(chain[-1].subdirs[part])
        d, n = chain[-1], node.n
        pos = list(d.idx).index(n)
        raws = d.raw_names()
        d._set_files([i for k, i in enumerate(d.idx) if k != pos], raws[:pos] + raws[pos + 1 :])
        d.version += 1
        p = self.primaries[n]
        if p >= 0:
            self._home[p].version += 1
            self.aliases_of[p].remove(n)
            if not self.aliases_of[p]:
                del self.aliases_of[p]
            self._home.pop(n, None)
            self.n_names -= 1
        else:
            self.n_files -= 1
            self.data_bytes -= self.sizes[n]
        self.pieces.pop(n, None)
        if n == len(self.sizes) - 1:  # the usual trial: the last file added; its numbers are dropped
            for col in (self.sizes, self.cids, self.mtimes, self.modes, self.blocks, self.fes, self.primaries):
                col.pop()
            del self.shas[-32:]
        for parent, child, part in zip(reversed(chain[:-1]), reversed(chain[1:]), reversed(dirs)):
            if child.idx or child.subdirs:
                break
            del parent.subdirs[part]
            parent.version += 1
        self._final = False

    def set_manifest_sizes(self, sizes: dict[str, int]) -> None:
        self.manifest.update(sizes)

    def set_piece_sha(self, f: FileNode, sha: bytes) -> None:
        """Record the hash of the piece file `f` shows, once it was read."""
        piece, offset, content_size, _ = self.pieces[f.n]
        self.pieces[f.n] = (piece, offset, content_size, sha)
        (f.node or self._home[f.n]).version += 1

    def has_pieces(self) -> bool:
        return bool(self.pieces)

    def file_view(self, n: int) -> FileNode:
        return FileNode(self, n, self._home.get(n))

    def _raw_name(self, n: int) -> bytes:
        node = self._home[n]
        return node.raw_names()[list(node.idx).index(n)]

    # ---- naming ----
    def finalize(self) -> None:
        """Decide every name in every view (idempotent until more files are added). A
        directory's names depend on its children alone, so only the children of directories
        that changed since are named again; directories under /DEEP are numbered anew."""
        if self._final:
            return
        self.deep = []
        self.data.udf = self.data.iso = self.data.joliet = DATA_DIR
        self.data.iso_depth = 1
        stack = [self.data]
        while stack:
            node = stack.pop()
            if node.named_version != node.version:
                self._name_children(node)
                node.named_version = node.version
            elif node.iso_depth + 1 > ISO_MAX_DIR_DEPTH:
                for raw in sorted(node.subdirs):
                    self._relocate(node.subdirs[raw])
            stack.extend(node.subdirs.values())
        self._final = True

    def _relocate(self, d: DirNode) -> None:
        """Place directory `d` under /DEEP in the ISO view (numbered in walk order)."""
        d.iso = f"D{len(self.deep):06d}"
        d.iso_depth = 2
        self.deep.append(d)

    def _name_children(self, node: DirNode) -> None:
        udf_taken: set[str] = set()
        iso_taken: set[str] = set()
        jol_taken: set[str] = set()
        for raw in sorted(node.subdirs):
            d = node.subdirs[raw]
            d.udf = names.udf_name(raw, udf_taken)
            d.joliet = names.joliet_name(d.udf, jol_taken)
            if node.iso_depth + 1 > ISO_MAX_DIR_DEPTH:
                self._relocate(d)
            else:
                d.iso = names.iso_dir_name(d.udf, iso_taken)
                d.iso_parent = node
                d.iso_depth = node.iso_depth + 1
        files = sorted(zip(node.raw_names(), node.idx))
        node._set_files([n for _, n in files], [raw for raw, _ in files])
        udf, jol, iso = [], [], []
        for raw, _ in files:
            u = names.udf_name(raw, udf_taken)
            udf.append(u)
            jol.append(names.joliet_name(u, jol_taken))
            iso.append(names.iso_file_name(u, iso_taken))
        node.names = (SEP.join(udf), SEP.join(jol), SEP.join(iso))

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
