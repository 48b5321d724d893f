"""The planner: assign every content not yet on a disc to new discs of a given capacity.

It walks the latest complete snapshot of every source (depth first, so a directory's files
are placed together), skips contents already placed (an earlier run's discs, or earlier in
this run: each content is stored once, and a further file with the same bytes found while
its content's disc is still open becomes one more name on that disc (`disc_names`); memory
is bounded by one disc's files, kept in the columns of its layout, closed discs are in the
catalogue already), and fills discs in order (`fill.OpenDisc`). A content
larger than the room left is split into pieces when it could not fit an empty disc either, or
when leaving the room empty would waste more than `split_free_fraction` of the disc; otherwise
the disc is closed and the content starts the next one. A directory that would straddle two
discs starts a new disc when the current one is full to `split_free_fraction` already and
the directory fits an empty disc (so fill stays >= 99%). Discs whose image was written are
never touched; `replan=True` drops the planned-only discs first and plans their content again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from odarchive.catalogue import Catalogue, images, plans
from odarchive.catalogue.tree import walk
from odarchive.ecc.formats import NEW as ECC_FORMAT
from odarchive.ecc.formats import max_data_bytes
from odarchive.errors import DiscError
from odarchive.iso.manifest import DiscInfo
from odarchive.iso.placed import Placed
from odarchive.plan.fill import OpenDisc
from odarchive.progress import NullReporter, Reporter


@dataclass(frozen=True)
class PlanConfig:
    """The [plan] table of odarchive.toml."""

    label: str = "ODARCHIVE"
    reserve_bytes: int = 0  # catalogue.json room for the archive's disc map; 0: 0.2% of the disc, >= 64 KiB
    split_free_fraction: float = 0.01
    min_piece_bytes: int = 1 << 20


@dataclass(frozen=True)
class PlannedDisc:
    disc_id: int
    files: int
    data_bytes: int
    used_bytes: int
    capacity_bytes: int


def reserve_for(capacity: int, config: PlanConfig) -> int:
    return config.reserve_bytes or max(64 * 1024, capacity // 500)


def plan(
    cat: Catalogue,
    capacity: int,
    config: PlanConfig = PlanConfig(),
    *,
    replan: bool = False,
    reporter: Reporter | None = None,
    ecc_roots: int | None = None,
) -> list[PlannedDisc]:
    """Plan all unplaced content onto new discs of `capacity` bytes; returns the new discs.

    With `ecc_roots`, each image is planned small enough that with its RS03 error correction
    (added after it is written, `odarchive.ecc`) it still fits `capacity`."""
    reporter = reporter or NullReporter()
    _check_label(config.label)
    with cat.transaction(), images.small_cache(cat.conn):  # (the layout is most of the memory: keep SQLite's small)
        if replan:
            plans.drop_planned(cat.conn)
        planner = _Planner(cat, capacity, config, reporter, ecc_roots)
        planner.run()
        return planner.done


def _check_label(label: str) -> None:
    if not re.fullmatch(r"[A-Z0-9_]{1,27}", label):
        raise DiscError(
            f"disc label {label!r} must be 1-27 characters of A-Z, 0-9 and _",
            hint="set [plan] label in odarchive.toml, or plan_iso --label",
        )


class _Planner:
    def __init__(
        self, cat: Catalogue, medium: int, config: PlanConfig, reporter: Reporter, ecc_roots: int | None
    ) -> None:
        self.cat, self.config, self.reporter = cat, config, reporter
        self.medium, self.ecc_roots = medium, ecc_roots
        self.capacity = max_data_bytes(medium, ecc_roots, ECC_FORMAT)  # the image before its error correction
        self.reserve = reserve_for(self.capacity, config)
        self.next_id = plans.next_disc_id(cat.conn)
        self.done: list[PlannedDisc] = []
        self.may_have_names = plans.contents_with_names(cat.conn)
        self.disc = self._open()
        if self.disc.exact_free(Placed(0, 0, 0, 0, b"\0" * 32, 0, 0, b"x/x")) <= 0:
            raise DiscError(
                f"a disc of {medium} bytes cannot even hold its own catalogue and file system",
                hint="choose a larger SIZE (e.g. cd, dvd, bluray)",
            )

    def _open(self) -> OpenDisc:
        info = DiscInfo(self.cat.meta("archive_id") or "", self.next_id, self.config.label, self.cat.chunk_size)
        return OpenDisc(self.next_id, self.capacity, info, self.reserve, self.may_have_names)

    def run(self) -> None:
        self.reporter.start("plan")
        for source, snap in self.cat.latest_snapshots():
            current_dir = -1
            for path, entry in walk(self.cat, source, snap.id):
                if entry.kind != "f" or entry.content_id is None:
                    continue
                if entry.content_id in self.disc.content_ids:  # the same bytes: one more name for them
                    if entry.content_id in self.disc.stored:
                        self.disc.add_name(entry.content_id, path, entry.mtime_ns, entry.mode)
                    continue
                if entry.dir_id != current_dir:
                    current_dir = entry.dir_id
                    self._keep_together(plans.unplaced_bytes(self.cat.conn, entry.dir_id, snap.id))
                if plans.is_placed(self.cat.conn, entry.content_id):
                    continue
                sha, size = self.cat.content(entry.content_id)
                self._place(entry.content_id, bytes(sha), size, entry.mtime_ns, entry.mode, path)
                self.reporter.advance(items=1, nbytes=size)
        if self.disc.n_files:
            self._close()
        self.reporter.finish()

    def _keep_together(self, dir_bytes: int) -> None:
        """Start a new disc for a directory that would straddle two, when this disc is full
        enough already (>= 1 - split_free_fraction) and the directory fits an empty disc."""
        d = self.disc
        if not d.n_files:
            return
        free = self.capacity - (d.base_bytes + d.pending_bytes)
        full_enough = free <= self.capacity * self.config.split_free_fraction
        if full_enough and free < dir_bytes <= self.capacity - d.empty_bytes:
            self._next_disc()

    def _place(self, content_id: int, sha: bytes, size: int, mtime_ns: int, mode: int, path: bytes) -> None:
        whole = Placed(content_id, 0, 0, size, sha, size, mtime_ns, path, mode=mode)
        if self._try_whole(whole):
            return
        first = Placed(content_id, 1, 0, size, sha, size, mtime_ns, path, mode=mode)
        if not self._should_split(size, self.disc.exact_free(first)):
            self._next_disc()
            if self._try_whole(whole):
                return
        offset, piece = 0, 1
        while True:
            left = size - offset
            trial = Placed(content_id, piece, offset, left, sha, size, mtime_ns, path, mode=mode)
            free = self.disc.exact_free(trial)
            if left <= free:
                self.disc.add(trial)
                return
            if free >= self.config.min_piece_bytes or (not self.disc.n_files and free > 0):
                self.disc.add(Placed(content_id, piece, offset, free, sha, size, mtime_ns, path, mode=mode))
                offset += free
                piece += 1
            self._next_disc()

    def _try_whole(self, whole: Placed) -> bool:
        cost = self.disc.cost(whole)
        if self.disc.fits_estimate(cost):
            self.disc.add(whole, cost)
            return True
        if whole.length <= self.disc.exact_free(whole):
            self.disc.add(whole)
            return True
        return False

    def _next_disc(self) -> None:
        if self.disc.n_files:
            self._close()
        self.disc = self._open()

    def _should_split(self, size: int, free: int) -> bool:
        if free < self.config.min_piece_bytes:
            return False
        empty_room = self.capacity - self.reserve
        return size > empty_room or not self.disc.n_files or free > self.capacity * self.config.split_free_fraction

    def _close(self) -> None:
        d = self.disc
        used = d.used_bytes()
        if used > self.capacity:  # the incremental bound failed: never plan an oversized disc
            raise DiscError(
                f"internal error: disc {d.disc_id} was planned at {used} bytes, over {self.capacity}",
                hint="please report this; try a slightly larger [plan] reserve_bytes meanwhile",
            )
        plans.add_disc(
            self.cat.conn,
            d.disc_id,
            self.config.label,
            self.capacity,
            used,
            self.medium,
            self.ecc_roots,
            ((p.content_id, p.piece, p.offset, p.length, p.raw_path, p.mtime_ns, p.mode) for p in d.placements()),
            ((p.raw_path, p.content_id, p.mtime_ns, p.mode) for p in d.further_names()),
            ECC_FORMAT,
        )
        self.done.append(PlannedDisc(d.disc_id, d.n_files, d.layout.data_bytes, used, self.capacity))
        self.reporter.event("disc", disc=d.disc_id, files=d.n_files, used_bytes=used)
        self.next_id += 1
