"""Building the image of one planned disc: `build_disc_image(cat, disc_id, out_dir, reporter)`.

Steps: load the disc's placements as a layout; read split contents whose piece hashes are
not known yet once in full (content hash checked, chunk and piece hashes recorded); start
reading the small files ahead in a child process (`readahead`); spool README.md, catalogue.json (optional parts, `extras`, as far as the planned size allows) and
SHA256SUMS (`spool`); lay the image out (`blocks`) and check it against the size model and
the medium; write it front to back (`writer`) to `.NAME.partial` while `SourceFeed`s (and
`read_small` for files of up to SMALL_READ bytes) check every source byte; add the disc's error correction (a post-step, `odarchive.ecc.post`); then
record extents, chunk hashes and the image hash in the catalogue and rename the image into
place. Any failure removes the partial image,
so an image under its final name is always whole.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from odarchive.catalogue import Catalogue, images
from odarchive.catalogue import chunks as chunk_hashes
from odarchive.catalogue.chunks import wants_chunk_hashes
from odarchive.ecc.post import add_planned_ecc
from odarchive.errors import DiscError
from odarchive.iso import readahead, sizing
from odarchive.iso.blocks import ImageBlocks, file_extents
from odarchive.iso.disc_files import disc_info, disc_row, load_layout, source_file, source_paths
from odarchive.iso.feeder import SourceChanged, SourceFeed, hash_whole, read_small
from odarchive.iso.layout import DirNode, DiscLayout, FileNode
from odarchive.iso.outfile import ImageSink
from odarchive.iso.readahead import ReadAhead, SmallFile
from odarchive.iso.spool import Manifests
from odarchive.iso.writer import write_image
from odarchive.progress import NullReporter, Reporter

RECORD_BATCH = 4096  # placements recorded per round of statements
SMALL_READ = 64 * 1024  # whole files up to this size are read in one call (no file object)
REPORT_SMALL = 256  # small files reported done at once


def image_name(label: str, disc_id: int) -> str:
    return f"{label}_{disc_id:04d}.iso"


def volume_ident(label: str, disc_id: int) -> str:
    return f"{label}_{disc_id:04d}"[:32]


def build_disc_image(cat: Catalogue, disc_id: int, out_dir: Path, reporter: Reporter | None = None) -> Path:
    """Write the image of planned disc `disc_id` to out_dir/<label>_<NNNN>.iso and return its path."""
    with images.small_cache(cat.conn):
        return _build(cat, disc_id, out_dir, reporter)


def _build(cat: Catalogue, disc_id: int, out_dir: Path, reporter: Reporter | None) -> Path:
    reporter = reporter or NullReporter()
    label, capacity, used, _state = disc_row(cat, disc_id)
    layout = load_layout(cat, disc_id)
    if not layout.n_files:
        raise DiscError(f"disc {disc_id} has nothing planned on it")
    roots = source_paths(cat)
    _hash_split_contents(cat, layout, roots, reporter)
    info = disc_info(cat, disc_id, label)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / image_name(label, disc_id)
    partial = out_dir / f".{final.name}.partial"
    chunks: list[tuple[int, int, bytes]] = []
    small = _SmallFiles(layout, roots, cat.chunk_size)
    ahead = readahead.start(small.sources, out_dir, layout.n_files)
    try:
        texts = Manifests(cat, layout, info, min(used, capacity), out_dir)
    except BaseException:
        if ahead is not None:
            ahead.close()
        raise
    try:
        blocks = ImageBlocks(layout)
        if blocks.total_blocks != texts.model_blocks() or blocks.total_blocks * sizing.BLOCK > capacity:
            raise DiscError(
                f"disc {disc_id} would need {blocks.total_blocks * sizing.BLOCK} bytes (the size model"
                f" says {texts.model_blocks() * sizing.BLOCK}), its capacity is {capacity}",
                hint="this is a bug in the size model; please report it",
            )
        image_hash = _write(
            cat, blocks, texts, volume_ident(label, disc_id), roots, partial, chunks, reporter, small, ahead
        )
        image_sha = add_planned_ecc(cat, disc_id, partial, image_hash)  # the image as it will be burned
        size = partial.stat().st_size
        with cat.transaction():
            _record(cat, blocks, layout, chunks)
            images.mark_written(cat.conn, disc_id, final.name, size, image_sha)
            os.replace(partial, final)
    finally:
        texts.close()
        if ahead is not None:
            ahead.close()
        partial.unlink(missing_ok=True)
    return final


def _hash_split_contents(cat: Catalogue, layout: DiscLayout, roots: dict[bytes, bytes], reporter: Reporter) -> None:
    """Pieces whose hash is unknown: read their content once, check it, record all hashes."""
    if not layout.has_pieces():
        return
    todo = {f.content_id: f.placed for f in layout.file_nodes() if f.is_piece and f.placed.piece_sha is None}
    if not todo:
        return
    reporter.start("hash pieces", total_items=len(todo), total_bytes=sum(p.content_size for p in todo.values()))
    for content_id, p in todo.items():
        pieces = images.pieces_of(cat.conn, content_id)
        path = source_file(roots, p.raw_path)
        whole, chunks, piece_hashes = hash_whole(
            path, os.fsdecode(path), p.content_size, cat.chunk_size, [(o, n) for _, o, n in pieces]
        )
        if whole != p.content_sha:
            raise SourceChanged(os.fsdecode(path), "its SHA-256 differs from the catalogue's")
        with cat.transaction():
            chunk_hashes.record(cat.conn, [(content_id, i, h) for i, h in chunks])
            images.record_piece_hashes(
                cat.conn, content_id, [(piece, h) for (piece, _, _), h in zip(pieces, piece_hashes)]
            )
        for f in layout.file_nodes():
            if f.content_id == content_id:
                layout.set_piece_sha(f, piece_hashes[f.placed.piece - 1])
        reporter.advance(items=1, nbytes=p.content_size)
    reporter.finish()


def _write(
    cat: Catalogue,
    blocks: ImageBlocks,
    texts: Manifests,
    vol: str,
    roots: dict[bytes, bytes],
    partial: Path,
    chunks: list[tuple[int, int, bytes]],
    reporter: Reporter,
    small_files: _SmallFiles,
    ahead: ReadAhead | None,
) -> Any:
    """Write the image to `partial`; returns its SHA-256 (the hashlib object). Chunk hashes computed on
    the way (large whole contents) are appended to `chunks` as (content_id, chunk, sha256)."""
    chunk_size = cat.chunk_size
    current: list[SourceFeed] = []  # the one source open at a time (closed on any failure)

    small = [0, 0]  # small files read and not reported yet: files, bytes

    def report_small() -> None:
        if small[0]:
            reporter.advance(items=small[0], nbytes=small[1])
            small[:] = [0, 0]

    def done(feed: SourceFeed, content_id: int) -> None:
        report_small()
        reporter.advance(items=1)
        if feed.chunks is not None and feed.offset == 0 and feed.length == feed.content_size:
            chunks.extend((content_id, i, h) for i, h in feed.chunks.done)

    def open_file(f: FileNode) -> SourceFeed | bytes:
        if small_files.is_small(f.n):  # one read (here or ahead), checked and reported here
            data = ahead.take(f.size, f.content_sha) if ahead is not None else None
            if data is None:
                data = read_small(small_files.path(f.node, f.raw_name), f.size, f.content_sha)
            small[0] += 1
            small[1] += len(data)
            if small[0] == REPORT_SMALL:
                report_small()
            return data
        p = f.placed
        path = source_file(roots, p.raw_path)
        expect_sha, expect_chunks = (None if p.piece else p.content_sha), None
        if p.piece or wants_chunk_hashes(p.content_size, chunk_size):
            expect_chunks = chunk_hashes.of_content(
                cat.conn, p.content_id, p.offset // chunk_size, (p.offset + p.length - 1) // chunk_size
            )
            if not p.piece and len(expect_chunks) == -(-p.content_size // chunk_size):
                expect_sha = None  # chunk hashes recorded earlier check every byte: one hash pass, not two
            elif not p.piece:
                expect_chunks = None
        for feed in current:
            feed.close()
        current[:] = [
            SourceFeed(
                path,
                os.fsdecode(path),
                p.content_size,
                p.offset,
                p.length,
                chunk_size,
                expect_sha,
                expect_chunks,
                functools.partial(done, content_id=p.content_id),
            )
        ]
        return current[0]

    reporter.start("write", total_items=blocks.layout.n_files, total_bytes=blocks.total_blocks * sizing.BLOCK)
    sink = ImageSink(partial)
    try:
        write_image(
            blocks,
            sink,
            vol,
            texts.contents(),
            open_file,
            progress=lambda n: reporter.advance(nbytes=n),
        )
        sink.close()
        report_small()
    finally:
        for feed in current:
            feed.close()
        sink.abandon()
        reporter.finish()
    assert sink.sha256 is not None
    return sink.hash


class _SmallFiles:
    """Which stored files are read whole in one call (up to SMALL_READ bytes, not a piece, no
    chunk hashes wanted), and their source paths (a directory's found once)."""

    def __init__(self, layout: DiscLayout, roots: dict[bytes, bytes], chunk_size: int) -> None:
        self.layout, self.roots = layout, roots
        self.max = SMALL_READ if not wants_chunk_hashes(SMALL_READ, chunk_size) else 0
        self._dirs: dict[int, bytes] = {}  # id(directory) -> its source directory

    def is_small(self, n: int) -> bool:
        lay = self.layout
        return lay.primaries[n] < 0 and lay.sizes[n] <= self.max and n not in lay.pieces

    def path(self, node: DirNode | None, raw_name: bytes) -> bytes:
        assert node is not None
        if not node.raw_path:
            return source_file(self.roots, raw_name)
        base = self._dirs.get(id(node))
        if base is None:
            base = self._dirs[id(node)] = source_file(self.roots, node.raw_path)
        return os.path.join(base, raw_name)

    def sources(self) -> Iterator[SmallFile]:
        """(source path, size, content SHA-256) of each small file, in the order they are written."""
        lay = self.layout
        for node, *_ in lay.dirs():
            for n, raw in zip(node.idx, node.raw_names()):
                if self.is_small(n):
                    yield self.path(node, raw), lay.sizes[n], bytes(lay.shas[32 * n : 32 * n + 32])


def _record(cat: Catalogue, blocks: ImageBlocks, layout: DiscLayout, chunks: list[tuple[int, int, bytes]]) -> None:
    """Extents and disc paths of every placement; chunk hashes of large whole contents.
    (Written in batches from the layout's columns: nothing per file is collected.)"""
    primaries, cids, pieces, sizes, data_at = layout.primaries, layout.cids, layout.pieces, layout.sizes, layout.blocks
    keys: list[tuple[int, int]] = []
    extents: list[tuple[int, int, int, int, int]] = []
    paths: list[tuple[bytes, int, int]] = []
    for node, udf, _jol, _iso in layout.dirs():
        for n, name in zip(node.idx, node.name_lists()[0]):
            if primaries[n] >= 0:  # (a further name has the stored file's extents)
                continue
            key = (cids[n], pieces[n][0] if n in pieces else 0)
            keys.append(key)
            extents += [(*key, i, off, length) for i, (off, length) in enumerate(file_extents(data_at[n], sizes[n]))]
            paths.append((f"{udf}/{name}".encode(), *key))
            if len(keys) == RECORD_BATCH:
                images.record_layout(cat.conn, keys, extents, paths)
                keys, extents, paths = [], [], []
    images.record_layout(cat.conn, keys, extents, paths)
    chunk_hashes.record(cat.conn, chunks)
