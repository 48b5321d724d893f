"""Building the image of one planned disc: `build_disc_image(cat, disc_id, out_dir, reporter)`.

Steps: load the disc's placements as a layout; read split contents whose piece hashes are
not known yet once in full (content hash checked, chunk and piece hashes recorded); write
README.md, catalogue.json (optional parts, `extras`, as far as the planned size allows) and
SHA256SUMS;
check the exact size against the medium; let pycdlib write the image to `.NAME.partial`
while `SourceFeed`s check every source byte; add the disc's error correction (a post-step,
`odarchive.ecc.post`); then record extents, chunk hashes and the image
hash in the catalogue and rename the image into place. Any failure removes the partial image,
so an image under its final name is always whole.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

from odarchive.catalogue import Catalogue
from odarchive.ecc.post import add_planned_ecc, planned_roots
from odarchive.errors import DiscError
from odarchive.iso import manifest, sizing
from odarchive.iso.extras import optional_sections
from odarchive.iso.disc_files import disc_info, disc_row, load_layout, source_file, source_paths
from odarchive.catalogue.chunks import wants_chunk_hashes
from odarchive.iso.feeder import SourceChanged, SourceFeed, hash_whole
from odarchive.iso.layout import DiscLayout, FileNode
from odarchive.iso.outfile import SparseImageFile
from odarchive.iso.populate import new_image, populate
from odarchive.progress import NullReporter, Reporter

WRITE_BLOCK = 1 << 20


def image_name(label: str, disc_id: int) -> str:
    return f"{label}_{disc_id:04d}.iso"


def volume_ident(label: str, disc_id: int) -> str:
    return f"{label}_{disc_id:04d}"[:32]


def build_disc_image(cat: Catalogue, disc_id: int, out_dir: Path, reporter: Reporter | None = None) -> Path:
    """Write the image of planned disc `disc_id` to out_dir/<label>_<NNNN>.iso and return its path."""
    reporter = reporter or NullReporter()
    label, capacity, used, _state = disc_row(cat, disc_id)
    layout = load_layout(cat, disc_id)
    if not layout.n_files:
        raise DiscError(f"disc {disc_id} has nothing planned on it")
    roots = source_paths(cat)
    _hash_split_contents(cat, layout, roots, reporter)
    info = disc_info(cat, disc_id, label)
    texts = _manifests(cat, layout, info, min(used, capacity))
    blocks = sizing.image_blocks(layout)
    if blocks * sizing.BLOCK > capacity:
        raise DiscError(f"disc {disc_id} would need {blocks * sizing.BLOCK} bytes, more than its {capacity}",
                        hint="re-plan: `odarchive plan_iso` (this is a bug in the size model; please report it)")
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / image_name(label, disc_id)
    partial = out_dir / f".{final.name}.partial"
    feeds: dict[int, SourceFeed] = {}
    try:
        iso, image_sha = _write(cat, layout, texts, volume_ident(label, disc_id), roots, partial, feeds, reporter)
        image_sha = add_planned_ecc(cat, disc_id, partial, image_sha)  # the image as it will be burned
        size = partial.stat().st_size
        with cat.transaction():
            _record(cat, iso, layout, feeds)
            cat.conn.execute(
                "UPDATE discs SET state=CASE WHEN state='planned' THEN 'written' ELSE state END, image_name=?,"
                " image_size=?, image_sha256=?, written_ns=CAST(strftime('%s','now') AS INTEGER)*1000000000 WHERE id=?",
                (final.name, size, image_sha, disc_id),
            )
            os.replace(partial, final)
        iso.close()
    finally:
        for feed in feeds.values():
            feed.close()
        partial.unlink(missing_ok=True)
    return final


def _hash_split_contents(cat: Catalogue, layout: DiscLayout, roots: dict[bytes, bytes], reporter: Reporter) -> None:
    """Pieces whose hash is unknown: read their content once, check it, record all hashes."""
    todo = {f.ref.content_id: f.ref for f, *_ in layout.files() if f.ref.piece and f.ref.piece_sha is None}
    if not todo:
        return
    reporter.start("hash pieces", total_items=len(todo), total_bytes=sum(p.content_size for p in todo.values()))
    for content_id, p in todo.items():
        pieces = cat.conn.execute("SELECT piece, offset, length FROM placements WHERE content_id=? ORDER BY piece",
                                  (content_id,)).fetchall()
        path = source_file(roots, p.raw_path)
        whole, chunks, piece_hashes = hash_whole(path, os.fsdecode(path), p.content_size, cat.chunk_size,
                                                 [(o, n) for _, o, n in pieces])
        if whole != p.content_sha:
            raise SourceChanged(os.fsdecode(path), "its SHA-256 differs from the catalogue's")
        with cat.transaction():
            cat.conn.executemany("INSERT OR IGNORE INTO chunk_hashes(content_id, chunk, sha256) VALUES (?,?,?)",
                                 [(content_id, i, h) for i, h in chunks])
            cat.conn.executemany("UPDATE placements SET sha256=? WHERE content_id=? AND piece=?",
                                 [(h, content_id, piece) for (piece, _, _), h in zip(pieces, piece_hashes)])
        for f, *_ in layout.files():
            if f.ref.content_id == content_id:
                f.ref.piece_sha = piece_hashes[f.ref.piece - 1]
        reporter.advance(items=1, nbytes=p.content_size)
    reporter.finish()


def _manifests(cat: Catalogue, layout: DiscLayout, info: manifest.DiscInfo, used: int) -> dict[str, bytes]:
    """README.md, catalogue.json and SHA256SUMS; catalogue.json's optional parts fill the room left."""
    n_discs = cat.conn.execute("SELECT count(*) FROM discs").fetchone()[0]
    readme = manifest.readme(info, layout.n_files, layout.data_bytes, n_discs, planned_roots(cat, info.disc)).encode()
    base = manifest.catalogue_json(layout, info)
    data_sums = manifest.sha256sums(layout).encode()
    sums_len = len(data_sums) + sum(len(manifest.sha256sums_line(h, p).encode()) for h, p in manifest.manifest_extra())
    layout.set_manifest_sizes({"README.md": len(readme), "catalogue.json": 0, "SHA256SUMS": sums_len})
    room = (used // sizing.BLOCK - sizing.image_blocks(layout)) * sizing.BLOCK - len(base.encode())
    text = manifest.catalogue_json(layout, info, optional_sections(cat, layout, info.disc, room)).encode()
    sums = (manifest.sha256sums_line(hashlib.sha256(readme).hexdigest(), "README.md")
            + manifest.sha256sums_line(hashlib.sha256(text).hexdigest(), "catalogue.json")).encode() + data_sums
    layout.set_manifest_sizes({"README.md": len(readme), "catalogue.json": len(text), "SHA256SUMS": len(sums)})
    for f, *_ in layout.files():
        f.memo = None  # the manifest's cached lines are not needed any more: memory for pycdlib
    return {"README.md": readme, "catalogue.json": text, "SHA256SUMS": sums}


def _write(cat: Catalogue, layout: DiscLayout, texts: dict[str, bytes], vol: str, roots: dict[bytes, bytes],
           partial: Path, feeds: dict[int, SourceFeed], reporter: Reporter) -> tuple[Any, bytes]:
    chunk_size = cat.chunk_size

    def open_file(f: FileNode) -> SourceFeed:
        p = f.ref
        path = source_file(roots, p.raw_path)
        expect_sha, expect_chunks = (None if p.piece else p.content_sha), None
        if p.piece or wants_chunk_hashes(p.content_size, chunk_size):
            expect_chunks = dict(cat.conn.execute(
                "SELECT chunk, sha256 FROM chunk_hashes WHERE content_id=? AND chunk BETWEEN ? AND ?",
                (p.content_id, p.offset // chunk_size, (p.offset + p.length - 1) // chunk_size)).fetchall())
            if not p.piece and len(expect_chunks) == -(-p.content_size // chunk_size):
                expect_sha = None  # chunk hashes recorded earlier check every byte: one hash pass, not two
            elif not p.piece:
                expect_chunks = None
        feed = SourceFeed(path, os.fsdecode(path), p.content_size, p.offset, p.length, chunk_size,
                          expect_sha, expect_chunks,
                          lambda feed: reporter.advance(items=1))
        feeds[id(f)] = feed
        return feed

    iso = new_image(vol)
    populate(iso, layout, open_file, {k: io.BytesIO(v) for k, v in texts.items()})
    done = [0]

    def progress(cur: int, total: int, _opaque: Any) -> None:
        reporter.advance(nbytes=cur - done[0])
        done[0] = cur

    reporter.start("write", total_items=layout.n_files, total_bytes=sizing.image_bytes(layout))
    try:
        data_start = iso.get_file_byte_extents(udf_path="/catalogue.json")[0][0]  # the first file's data
        out = SparseImageFile(partial, stream_from=data_start)
        try:
            iso.write_fp(out, blocksize=WRITE_BLOCK, progress_cb=progress)
            out.close()
        finally:
            out.abandon()
    finally:
        reporter.finish()
    assert out.sha256 is not None
    return iso, out.sha256


def _record(cat: Catalogue, iso: Any, layout: DiscLayout, feeds: dict[int, SourceFeed]) -> None:
    """Extents and disc paths of every placement; chunk hashes of large whole contents."""
    extents, paths, chunks, keys = [], [], [], []
    for f, udf, _jol, _iso in layout.files():
        p = f.ref
        keys.append((p.content_id, p.piece))
        extents += [(p.content_id, p.piece, i, off, n) for i, (off, n) in enumerate(iso.get_file_byte_extents(udf_path=udf))]
        paths.append((udf.encode("utf-8"), p.content_id, p.piece))
        feed = feeds.get(id(f))
        if not p.piece and feed is not None and feed.chunks is not None:
            chunks += [(p.content_id, i, h) for i, h in feed.chunks.done]
    cat.conn.executemany("DELETE FROM extents WHERE content_id=? AND piece=?", keys)  # an earlier build's
    cat.conn.executemany("INSERT INTO extents(content_id, piece, seq, image_offset, length) VALUES (?,?,?,?,?)", extents)
    cat.conn.executemany("UPDATE placements SET path_on_disc=? WHERE content_id=? AND piece=?", paths)
    cat.conn.executemany("INSERT OR IGNORE INTO chunk_hashes(content_id, chunk, sha256) VALUES (?,?,?)", chunks)
