"""Restoring a snapshot (or some of its paths) from disc images into a target directory.

Algorithm:
1. Walk the chosen snapshots (streaming): create directories and symlinks, and list wanted
   files in a temporary table. A file already in the target with the right size, mtime and
   hash is left alone, so an interrupted restore continues where it stopped.
2. Read the placements of every wanted content, grouped by disc and ordered by their first
   extent: each image is opened once and read front to back. Bytes are copied from the
   image's extents (recorded when the image was written) into a temporary file next to the
   file's final place; a piece of a split content lands at its offset.
3. When every piece of a content is in, its SHA-256 is checked; only then is it renamed into
   place, with its metadata (`odarchive.restore_attrs`: owner, mode, xattrs and ACLs, mtime).
   Other names of the same inode (hard links) are linked to it; other paths with the same
   content are copies. Runs of zeros are left as holes (as `cp --sparse`, `tar -S` and
   `rsync -S` do), so sparse files come back sparse.
4. Directory metadata is set last, deepest first.

Where a disc's bytes come from is the caller's choice (`open_disc`): by default its image
file in `images` (`ImageDiscs`); `odarchive restore` without `--images` also reads the
discs whose image is gone through the robot (`odarchive.app.restore_discs`), each disc
once, in disc order. A missing disc is named ("disc 17 is needed") and everything else is
still restored. No path may escape the target: names are checked, and a parent that
resolves outside the target (a symlink planted there) is refused.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from odarchive.catalogue import Catalogue, Snapshot, Source
from odarchive.catalogue import discs as disc_rows
from odarchive.catalogue.restoring import Wanted, piece_extents
from odarchive.catalogue.tree import walk
from odarchive.errors import InputError
from odarchive.hashing import file_sha256
from odarchive.progress import NullReporter, Reporter
from odarchive.restore_attrs import AttrSetter

COPY_BLOCK = 4 << 20
HOLE_BLOCK = 64 << 10  # aligned runs of zeros this long are left as holes
_ZEROS = bytes(HOLE_BLOCK)
TMP_SUFFIX = b".odarchive-restore"


@dataclass
class RestoreReport:
    target: str
    files_restored: int = 0
    files_already_correct: int = 0
    bytes_restored: int = 0
    directories: int = 0
    symlinks: int = 0
    hard_links: int = 0
    discs_read: list[int] = field(default_factory=list)
    missing_discs: list[int] = field(default_factory=list)
    missing_reasons: list[dict[str, object]] = field(default_factory=list)  # {"disc", "reason"} for each
    failed: list[dict[str, str]] = field(default_factory=list)
    ecc_repaired_discs: list[int] = field(default_factory=list)  # read through their ECC (odarchive.ecc)
    not_set: list[str] = field(default_factory=list)  # metadata that could not be restored, by kind

    @property
    def ok(self) -> bool:
        return not self.failed and not self.missing_discs


ReadAt = Callable[[int, int], bytes]  # (offset, length) -> the bytes of a disc at that offset
OpenDisc = Callable[[int], AbstractContextManager[ReadAt]]  # disc -> its bytes while open; MissingDisc if none


class MissingDisc(Exception):
    """A disc that cannot be read now (no image; not in the changer): its files are named as needing it."""


class ImageDiscs:
    """Discs as image files in one directory: the recorded image name, else `*_NNNN.iso`."""

    def __init__(self, cat: Catalogue, images: Path) -> None:
        self.cat, self.images = cat, images

    def image(self, disc: int) -> str | None:
        name = disc_rows.image_name(self.cat.conn, disc)
        candidates = [self.images / name] if name else []
        candidates += sorted(self.images.glob(f"*_{disc:04d}.iso"))
        for c in candidates:
            if c.is_file():
                return str(c)
        return None

    @contextmanager
    def __call__(self, disc: int) -> Iterator[ReadAt]:
        image = self.image(disc)
        if image is None:
            raise MissingDisc(f"its image is not in {self.images}")
        fd = os.open(image, os.O_RDONLY)
        try:
            yield lambda offset, length: os.pread(fd, length, offset)
        finally:
            os.close(fd)


def safe_relpath(path: bytes) -> bytes:
    parts = path.split(b"/")
    if not path or any(p in (b"", b".", b"..") or b"\0" in p for p in parts):
        raise InputError(f"refusing unsafe archived path {os.fsdecode(path)!r}")
    return path


class Restorer:
    def __init__(
        self,
        cat: Catalogue,
        target: Path,
        images: Path,
        reporter: Reporter | None = None,
        open_disc: OpenDisc | None = None,
    ) -> None:
        self.cat = cat
        self.target = os.fsencode(target.absolute())
        self.open_disc = open_disc or ImageDiscs(cat, images)
        self.reporter = reporter or NullReporter()
        self.report = RestoreReport(target=str(target))
        self._checked_dirs: set[bytes] = set()
        self._partial: set[bytes] = set()  # temporary files of contents not complete yet
        self.attrs = AttrSetter(cat)

    # ---- public ----
    def run(self, snapshots: list[tuple[Source, Snapshot]], prefixes: tuple[bytes, ...]) -> RestoreReport:
        os.makedirs(self.target, exist_ok=True)
        self.real_target = os.path.realpath(self.target)
        self.want = Wanted(self.cat.conn)
        self.reporter.start("prepare")
        for source, snap in snapshots:
            self._prepare(source, snap, prefixes)
        self.reporter.finish()
        self.want.listed()
        try:
            self._copy_from_discs()
        finally:  # interrupted: leave no half-written temporary file behind
            for tmp in self._partial:
                _unlink(tmp)
        self._finish_dirs()
        self.report.not_set = self.attrs.problems()
        return self.report

    # ---- step 1 ----
    def _prepare(self, source: Source, snap: Snapshot, prefixes: tuple[bytes, ...]) -> None:
        for path, e in walk(self.cat, source, snap.id):
            if prefixes and not any(path == p or path.startswith(p + b"/") for p in prefixes):
                continue
            rel = safe_relpath(path)
            dest = self._dest(rel)
            if e.kind == "d":
                os.makedirs(dest, exist_ok=True)
                self.want.add_dir(rel, e.mtime_ns, e.mode, e.owner, e.xattrs)
                self.report.directories += 1
            elif e.kind == "l":
                self._symlink(dest, e.target or b"")
                self.attrs.apply(dest, "l", e.mode, e.mtime_ns, e.owner, None)
            elif self._already_correct(dest, e.size, e.mtime_ns, e.content_id):
                self.attrs.apply(dest, "f", e.mode, e.mtime_ns, e.owner, e.xattrs)
                self.report.files_already_correct += 1
            else:
                self.want.add_file(rel, e.content_id, e.size, e.mtime_ns, e.mode, e.owner, e.xattrs, e.source_id, e.ino)
            self.reporter.advance(items=1)

    def _dest(self, rel: bytes) -> bytes:
        """The target path for `rel`, after checking that its parent stays inside the target."""
        dest = self.target + b"/" + rel
        parent = os.path.dirname(dest)
        if parent not in self._checked_dirs:
            os.makedirs(parent, exist_ok=True)
            real = os.path.realpath(parent)
            if real != self.real_target and not real.startswith(self.real_target + b"/"):
                raise InputError(
                    f"{os.fsdecode(parent)} resolves outside the restore target; refusing to write there",
                    hint="remove the symlink from the target directory",
                )
            self._checked_dirs.add(parent)
        return dest

    def _symlink(self, dest: bytes, target: bytes) -> None:
        self.report.symlinks += 1
        if os.path.islink(dest) and os.readlink(dest) == target:
            return
        if os.path.lexists(dest) and not os.path.isdir(dest):
            os.unlink(dest)
        os.symlink(target, dest)

    def _already_correct(self, dest: bytes, size: int, mtime_ns: int, content_id: int | None) -> bool:
        try:
            st = os.lstat(dest)
        except FileNotFoundError:
            return False
        if not stat.S_ISREG(st.st_mode) or st.st_size != size or st.st_mtime_ns != mtime_ns or content_id is None:
            return False
        return file_sha256(dest) == self.cat.content(content_id)[0]

    # ---- steps 2 and 3 ----
    def _copy_from_discs(self) -> None:
        for cid in self.want.unplaced():
            self._fail_content(cid, "not on any disc: plan and write discs first (`plan_iso`, `create_iso`)")
        rows = self.want.pieces()
        total = sum(r[4] for r in rows)
        self.reporter.start("restore", total_bytes=total)
        pieces_done: dict[int, int] = {}
        failed: set[int] = set()
        disc_of: dict[int, list[int]] = {}
        i = 0
        while i < len(rows):
            disc = rows[i][0]
            group = []
            while i < len(rows) and rows[i][0] == disc:
                group.append(rows[i])
                i += 1
            with ExitStack() as stack:
                try:
                    read_at = stack.enter_context(self.open_disc(disc))
                except MissingDisc as e:
                    self.report.missing_discs.append(disc)
                    self.report.missing_reasons.append({"disc": disc, "reason": str(e)})
                    self.reporter.event("missing", disc=disc, reason=str(e))
                    for r in group:
                        disc_of.setdefault(r[1], []).append(disc)
                    continue
                self.report.discs_read.append(disc)
                for _d, cid, piece, offset, length, piece_sha, n_pieces, _pos in group:
                    if cid in failed:
                        continue
                    problem = self._copy_piece(
                        read_at, disc, cid, piece, offset, length, piece_sha, first=cid not in pieces_done
                    )
                    if problem:
                        failed.add(cid)
                        self._fail_content(cid, problem)
                        continue
                    pieces_done[cid] = pieces_done.get(cid, 0) + 1
                    if pieces_done[cid] == n_pieces:
                        self._complete(cid)
        for cid, discs in disc_of.items():
            if cid not in failed:
                needed = ", ".join(str(d) for d in sorted(set(discs)))
                self._fail_content(
                    cid, f"disc {needed} is needed" if len(set(discs)) == 1 else f"discs {needed} are needed"
                )
        self.reporter.finish()

    def _tmp(self, rel: bytes) -> bytes:
        dest = self._dest(rel)
        head, tail = os.path.split(dest)
        return head + b"/." + tail[:200] + TMP_SUFFIX

    def _copy_piece(
        self,
        read_at: ReadAt,
        disc: int,
        cid: int,
        piece: int,
        offset: int,
        length: int,
        piece_sha: bytes | None,
        first: bool,
    ) -> str | None:
        extents = piece_extents(self.cat.conn, cid, piece)
        if sum(n for _, n in extents) != length:
            return f"disc {disc} has no recorded extents for this file; rebuild the catalogue from the images"
        tmp = self._tmp(self.want.first_path(cid))
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | (os.O_TRUNC if first else 0)
        out = os.open(tmp, flags, 0o600)
        self._partial.add(tmp)
        h = hashlib.sha256()
        try:
            pos = offset
            for image_offset, n in extents:
                done = 0
                while done < n:
                    try:
                        block = read_at(image_offset + done, min(COPY_BLOCK, n - done))
                    except OSError as e:  # a disc read through a drive: an unreadable sector
                        return f"disc {disc} could not be read at byte {image_offset + done}: {e.strerror or e}"
                    if not block:
                        return f"disc {disc}'s image is shorter than its catalogue says"
                    h.update(block)
                    _write_sparse(out, block, pos)
                    pos += len(block)
                    done += len(block)
                    self.reporter.advance(nbytes=len(block))
        finally:
            os.close(out)
        if piece and piece_sha is not None and h.digest() != piece_sha:
            return f"part {piece} on disc {disc} does not match its SHA-256 (damaged disc or image)"
        return None

    def _complete(self, cid: int) -> None:
        sha, size = self.cat.content(cid)
        paths = self.want.names(cid)
        first = paths[0][0]
        tmp = self._tmp(first)
        self._partial.discard(tmp)
        ok = os.path.getsize(tmp) <= size
        if ok:
            os.truncate(tmp, size)  # a hole at the end was never written
            ok = file_sha256(tmp) == sha
        if not ok:
            os.unlink(tmp)
            self._fail_content(cid, "restored bytes do not match the catalogue's SHA-256 (damaged disc or image)")
            return
        inodes: dict[tuple[int, int], bytes] = {}  # (source, inode) -> restored path of that inode
        for i, (rel, mtime_ns, mode, owner, attrs, src, ino) in enumerate(paths):
            dest = self._dest(rel)
            linked = inodes.get((src, ino)) if ino is not None else None
            if linked is not None:  # another name of an inode restored just now: a hard link
                tmp = self._tmp(rel)
                _unlink(tmp)
                os.link(linked, tmp)
            elif i:  # the same content at another path: copy what was just verified
                tmp = self._tmp(rel)
                _copy_sparse(self._dest(first), tmp, size)
            if linked is None:
                self.attrs.apply(tmp, "f", mode, mtime_ns, owner, attrs)
            if os.path.isdir(dest) and not os.path.islink(dest):
                os.unlink(tmp)
                self.report.failed.append({"path": os.fsdecode(rel), "reason": "a directory is in the way"})
                continue
            os.replace(tmp, dest)
            if ino is not None and linked is None:
                inodes[(src, ino)] = dest
            self.report.hard_links += linked is not None
            self.report.files_restored += 1
            self.report.bytes_restored += size

    def _fail_content(self, cid: int, reason: str) -> None:
        for rel in self.want.paths(cid):
            self.report.failed.append({"path": os.fsdecode(rel), "reason": reason})
            tmp = self._tmp(rel)
            self._partial.discard(tmp)
            _unlink(tmp)
        self.reporter.event("failed", content=cid, reason=reason)

    # ---- step 4 ----
    def _finish_dirs(self) -> None:
        for rel, mtime_ns, mode, owner, attrs in self.want.dirs_deepest_first():
            self.attrs.apply(self.target + b"/" + rel, "d", mode, mtime_ns, owner, attrs)


def _write_sparse(fd: int, block: bytes, pos: int) -> None:
    """pwrite `block` at `pos`, leaving aligned all-zero runs of HOLE_BLOCK bytes unwritten (holes)."""
    view = memoryview(block)
    start = 0
    while start < len(view):
        end = min(len(view), start + HOLE_BLOCK - (pos + start) % HOLE_BLOCK)
        part = view[start:end]
        if part != _ZEROS[: len(part)]:
            os.pwrite(fd, part, pos + start)
        start = end


def _copy_sparse(src: bytes, dst: bytes, size: int) -> None:
    """Copy a verified restored file to another path, holes kept."""
    fin = os.open(src, os.O_RDONLY)
    try:
        out = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            pos = 0
            while block := os.pread(fin, COPY_BLOCK, pos):
                _write_sparse(out, block, pos)
                pos += len(block)
            os.ftruncate(out, size)
        finally:
            os.close(out)
    finally:
        os.close(fin)


def _unlink(path: bytes) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def choose_snapshots(cat: Catalogue, snapshot: int | None) -> list[tuple[Source, Snapshot]]:
    if snapshot is None:
        chosen = cat.latest_snapshots()
        if not chosen:
            raise InputError(
                "the catalogue has no complete snapshot to restore", hint="run `odarchive create_db` first"
            )
        return chosen
    snap = cat.snapshot(snapshot)
    if snap is None or snap.state != "complete":
        raise InputError(f"there is no complete snapshot {snapshot}", hint="see `odarchive get_info --json`")
    return [(cat.source(snap.source_id), snap)]
