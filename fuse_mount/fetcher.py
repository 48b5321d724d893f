"""The fetcher: fills cache misses from discs, loading each disc once for everything waiting.

How a miss is served (see DESIGN.md "The mount"):

1. `fetch(content, offset, length)` turns the byte range into *jobs*: the whole content when
   it is small (`whole_max_bytes`) or has no per-chunk hashes, otherwise the missing cache
   chunks of the range plus `read_ahead_chunks` beyond it. Identical jobs in flight are shared.
2. Each job is split into *disc reads*, one per disc holding some of its bytes (pieces of a
   split content span discs), with the image extents to read. They wait in a queue per disc.
3. One worker per drive picks a disc: the one already in its drive if anything waits for it,
   otherwise (once a burst of requests has settled, `gather_s`) the disc whose oldest request
   has waited longest (skipping discs that sit in
   another drive or are claimed by another worker). It loads the disc once, reads every
   waiting extent in order of position on the disc, and keeps taking requests that arrive for
   that disc while it is loaded, and for `gather_s` after none wait (a reader of the same
   burst that asks late still finds its disc).
4. When all reads of a job are in, a *finisher* thread hands the bytes to the cache, which
   verifies them (whole content SHA-256 or the chunk's SHA-256) before storing them; a
   mismatch is never served: the job is read once more, and the disc source is told which of
   its bytes read wrong (`suspect`, when it has one: `fuse_mount.rescue` then serves them from
   the disc's other copies or its error correction). Then the readers wake and read from the
   cache. The drive's
   worker goes on reading the next extent meanwhile (the hashing and the cache write overlap
   the disc read; at most `FINISH_QUEUE` read jobs wait for a finisher, so the bytes held in
   memory stay bounded). A job of at least `POOLED_MIN_BYTES` read from one disc is read
   into a reused buffer (`ReadBuffers`; the source's `read_into`, when it has one): a fresh
   16 MiB buffer per chunk cost its page faults and zeroing, more CPU than the hashing. Verified bytes the cache cannot keep (its
   disk is too small or full: `CacheFullError`) are handed to the readers instead (`fetch`
   returns them), with a log line: a read never fails because the cache is small.

A job's readers wait at most `disc_timeout_s` from when the job was queued (a reader that
joins later, such as the kernel retrying a failed read, does not start the clock again); then
they get `DiscUnavailable` (EIO) naming the disc, and the job stays queued (it fills the cache
if the disc comes later). A robot fault
fails every read waiting for that disc at once, and new reads of that disc fail at once for
`fault_hold_s` (rather than each waiting for the robot again). Nothing here holds a lock while loading or
reading a disc, so metadata operations and cached reads never wait for the robot.

Threads: FUSE threads call `fetch`; `drive_count` worker threads run `_work`; `FINISHERS`
threads run `_finish_jobs`. `_cond` guards the queues, the jobs in flight and the counters.
"""

from __future__ import annotations

import logging
import mmap
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from fuse_mount.buffers import ReadBuffers
from fuse_mount.cache.errors import CacheFullError
from fuse_mount.catalogue_view import CatalogueView, Content, Piece
from fuse_mount.discs import DiscSource
from fuse_mount.errors import CorruptData, DiscUnavailable, MountFault

log = logging.getLogger("odarchive.mount.fetcher")

WHOLE = -1  # job index for "the whole content"
MiB = 1024 * 1024
FINISHERS = 2
"""Threads verifying and storing read jobs (SHA-256 releases the GIL: two hash at once)."""
FINISH_QUEUE = 2
"""Read jobs waiting for a finisher at most; a worker with one more to hand over waits."""
POOLED_MIN_BYTES = 64 * 1024
"""Jobs from this size up (chunks, and whole contents that are not tiny) are read into reused
buffers when read from one disc; smaller ones into new bytes."""
BUFFER_IDLE_S = 2.0
"""Reused read buffers the fetcher has not needed for this long are freed (memory stays flat)."""
STREAM_AHEAD = 2
"""A read the cache served at a new chunk (a sequential read) queues this many times
`read_ahead_chunks` beyond it."""


@dataclass(frozen=True)
class FetchConfig:
    disc_timeout_s: float = 600.0
    """A read waiting longer than this for its disc fails with EIO."""
    whole_max_bytes: int = 64 * MiB
    """Contents up to this size are fetched and verified whole."""
    read_ahead_chunks: int = 2
    """Chunks beyond a read of a large content fetched along with it."""
    fault_hold_s: float = 10.0
    """After a disc failed (robot fault, unreadable), new reads of it fail at once for this
    long instead of waiting for the robot again (the kernel retries failed reads)."""
    gather_s: float = 0.05
    """Requests are gathered until none came for this long (at most 10x this) before a disc
    is loaded, so a burst of reads loads each of its discs once."""


class ChunkStore(Protocol):
    """The part of `fuse_mount.cache.Cache` the fetcher fills."""

    def missing_chunks(self, key: str, size: int, offset: int, length: int) -> list[int]: ...

    def chunk_range(self, size: int, index: int) -> tuple[int, int]: ...

    def put_whole(self, key: str, data: bytes | memoryview, sha256_expected: str | None = None) -> bool:
        """False if the bytes do not verify; CacheFullError (only once verified) if no room."""

    def put_chunk(
        self, key: str, size: int, index: int, data: bytes | memoryview, chunk_sha256_expected: str
    ) -> bool: ...

    def record_disc_load(self, disc: int) -> None: ...


@dataclass(eq=False)
class _Job:
    content: Content
    index: int  # WHOLE or a chunk number
    offset: int
    length: int
    chunk_sha256: str | None
    deadline: float  # readers give up at this time (monotonic), however late they joined
    discs: set[int] = field(default_factory=set)
    pieces: list[tuple[int, bytes]] = field(default_factory=list)  # (offset in the job, bytes) read
    buffer: mmap.mmap | None = None  # a reused buffer the job's one disc read fills (then no pieces)
    outstanding: int = 0
    reads: list[_DiscRead] = field(default_factory=list)  # one per disc, as queued
    retried: bool = False  # read once more after failing verification
    error: MountFault | None = None
    unkept: bytes | None = None  # verified bytes the cache had no room for
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def key(self) -> tuple[int, int]:
        return (self.content.id, self.index)

    def data(self) -> bytes | memoryview:
        """The job's bytes, once every piece is read (no copy when one read gave them all)."""
        if self.buffer is not None:
            return memoryview(self.buffer)[: self.length]
        if len(self.pieces) == 1:
            return self.pieces[0][1]
        return b"".join(data for _, data in sorted(self.pieces, key=lambda p: p[0]))


@dataclass(eq=False)
class _DiscRead:
    job: _Job
    disc: int
    parts: list[tuple[int, int, int]]  # (image_offset, length, offset in the job's buffer)
    queued_at: float

    @property
    def position(self) -> int:
        return self.parts[0][0]


def plan_parts(pieces: list[Piece], offset: int, length: int) -> dict[int, list[tuple[int, int, int]]]:
    """Which image extents hold content bytes [offset, offset+length), by disc.

    Returns {disc: [(image_offset, length, offset relative to `offset`)]}; raises
    DiscUnavailable if some byte is on no written disc.
    """
    by_disc: dict[int, list[tuple[int, int, int]]] = {}
    covered = 0
    end = offset + length
    for p in pieces:
        lo, hi = max(offset, p.offset), min(end, p.offset + p.length)
        if lo >= hi or not p.extents:
            continue
        pos = p.offset  # content offset where the current extent starts
        for image_offset, ext_len in p.extents:
            a, b = max(lo, pos), min(hi, pos + ext_len)
            if a < b:
                by_disc.setdefault(p.disc_id, []).append((image_offset + a - pos, b - a, a - offset))
                covered += b - a
            pos += ext_len
    if covered != length:
        raise DiscUnavailable(
            f"bytes {offset}..{end} are on no written disc", hint="burn or write the discs of this content first"
        )
    return by_disc


class Fetcher:
    """Queues misses by disc and serves them with one worker per drive (module docstring)."""

    def __init__(self, catalogue: CatalogueView, source: DiscSource, cache: ChunkStore, config: FetchConfig) -> None:
        self._cat = catalogue
        self._source = source
        self._cache = cache
        self._config = config
        self._cond = threading.Condition()
        self._queues: dict[int, list[_DiscRead]] = {}
        self._jobs: dict[tuple[int, int], _Job] = {}
        self._claimed: dict[int, int] = {}  # disc -> drive serving it
        self._busy: dict[int, str] = {}  # drive -> what it is doing
        self._stopping = False
        self._last_submit = 0.0
        self._failed: dict[int, tuple[float, DiscUnavailable]] = {}  # disc -> (until, error)
        self.loads: list[int] = []  # every disc loaded, in order (for status and tests)
        self.failures = 0
        self._finishing: queue.Queue[_Job | None] = queue.Queue(FINISH_QUEUE)
        self._buffers = ReadBuffers()
        self._finishers = [
            threading.Thread(target=self._finish_jobs, name=f"odarchive-verify{n}", daemon=True)
            for n in range(FINISHERS)
        ]
        self._workers = [
            threading.Thread(target=self._work, args=(d,), name=f"odarchive-drive{d}", daemon=True)
            for d in range(source.drive_count())
        ]
        for w in self._finishers + self._workers:
            w.start()

    # ---- the reader side ----
    def fetch(self, content: Content, offset: int, length: int) -> list[tuple[int, bytes]]:
        """Return once bytes [offset, offset+length) of `content` are in the cache, or verified
        in the returned (content offset, bytes) that the cache had no room for; else raise."""
        jobs = self._submit(content, offset, length, self._config.read_ahead_chunks)
        for job in jobs:
            if not job.done.wait(max(0.0, job.deadline - time.monotonic())):
                discs = ", ".join(self._describe(d) for d in sorted(job.discs))
                log.error(
                    "read of %s timed out after %ss waiting for %s",
                    content.sha256.hex()[:16],
                    self._config.disc_timeout_s,
                    discs,
                )
                raise DiscUnavailable(f"{discs} not available within {self._config.disc_timeout_s:g} s")
            if job.error is not None:
                raise job.error
        return [(job.offset, job.unkept) for job in jobs if job.unkept is not None]

    def prefetch(self, content: Content, offset: int, length: int) -> None:
        """Queue, without waiting, the chunks beyond this range: called for reads the cache
        served at a new chunk, so a sequential read keeps the drive busy ahead of it instead
        of waiting at every chunk that was not read ahead on a miss. Such a read streams, so
        twice `read_ahead_chunks` are queued (a miss alone, such as `file` reading a header,
        reads only `read_ahead_chunks` ahead): the drive reads on while the chunks before are
        verified and stored, and the reader seldom catches up with it."""
        if content.size <= self._config.whole_max_bytes or not self._cat.chunk_hashes(content.id):
            return  # fetched whole: nothing to read ahead
        try:
            self._submit(content, offset, length, STREAM_AHEAD * self._config.read_ahead_chunks)
        except DiscUnavailable:
            pass  # the read that needs those chunks will say why

    def _describe(self, disc_id: int) -> str:
        """'disc 3 (ODARCHIVE_0003)' for messages; never raises (it names failures)."""
        try:
            disc = self._cat.disc(disc_id)
        except Exception:
            disc = None
        return f"disc {disc_id} ({disc.label})" if disc else f"disc {disc_id}"

    def _units(
        self, content: Content, offset: int, length: int, ahead_chunks: int
    ) -> tuple[list[tuple[int, int, int, str | None]], int]:
        """(index, offset, length, chunk sha) of the jobs for a range and `ahead_chunks` beyond
        it, and how many of them to wait for."""
        hashes = self._cat.chunk_hashes(content.id) if content.size > self._config.whole_max_bytes else {}
        if not hashes:
            return [(WHOLE, 0, content.size, None)], 1
        key = content.sha256.hex()
        wanted = self._cache.missing_chunks(key, content.size, offset, length)
        chunk_len = self._cache.chunk_range(content.size, 0)[1]
        ahead_from = offset + length
        ahead = self._cache.missing_chunks(key, content.size, ahead_from, ahead_chunks * chunk_len)
        units: list[tuple[int, int, int, str | None]] = []
        for i in wanted + [i for i in ahead if i not in wanted]:
            if i not in hashes:
                return [(WHOLE, 0, content.size, None)], 1
            off, ln = self._cache.chunk_range(content.size, i)
            units.append((i, off, ln, hashes[i].hex()))
        return units, len(wanted)

    def _submit(self, content: Content, offset: int, length: int, ahead_chunks: int) -> list[_Job]:
        units, waited = self._units(content, offset, length, ahead_chunks)
        pieces = self._cat.pieces(content.id)
        try:
            plans = [(u, plan_parts(pieces, u[1], u[2])) for u in units]
        except DiscUnavailable as e:
            raise DiscUnavailable(f"content {content.sha256.hex()[:16]}: {e.message}", e.hint) from None
        now = time.monotonic()
        jobs = []
        with self._cond:
            for _, by_disc in plans:
                for disc in by_disc:
                    until, error = self._failed.get(disc, (0.0, None))
                    if error is not None and now < until:
                        raise error
            self._last_submit = now
            for (index, off, ln, sha), by_disc in plans:
                job = self._jobs.get((content.id, index))
                if job is None:
                    deadline = now + self._config.disc_timeout_s
                    job = _Job(content, index, off, ln, sha, deadline, set(by_disc), outstanding=len(by_disc))
                    self._jobs[job.key] = job
                    job.reads = [_DiscRead(job, disc, parts, now) for disc, parts in by_disc.items()]
                    for r in job.reads:
                        self._queues.setdefault(r.disc, []).append(r)
                jobs.append(job)
            self._cond.notify_all()
        return jobs[:waited]

    # ---- the drive side ----
    def _pick(self, drive: int) -> tuple[int | None, float]:
        """The disc this drive should serve next, or (None, seconds to wait). Holds _cond."""
        here = self._source.loaded(drive)
        if here in self._queues and here not in self._claimed:
            return here, 0.0
        elsewhere = {self._source.loaded(d) for d in range(len(self._workers)) if d != drive}
        candidates = [
            (reads[0].queued_at, disc)
            for disc, reads in self._queues.items()
            if disc not in self._claimed and disc not in elsewhere
        ]
        if not candidates:
            return None, 1.0
        oldest, disc = min(candidates)
        gather = self._config.gather_s
        wait = min(self._last_submit + gather, oldest + 10 * gather) - time.monotonic()
        return (disc, 0.0) if wait <= 0 else (None, wait)

    def _work(self, drive: int) -> None:
        while True:
            with self._cond:
                disc, wait = self._pick(drive)
                while disc is None and not self._stopping:
                    self._cond.wait(wait)
                    disc, wait = self._pick(drive)
                    if disc is None and not self._jobs:
                        self._buffers.trim(BUFFER_IDLE_S)
                if self._stopping:
                    return
                assert disc is not None
                self._claimed[disc] = drive
            try:
                self._serve(drive, disc)
            except Exception:  # never lose a worker: its drive would serve nothing more
                log.exception("drive %d worker: unexpected error serving disc %d", drive, disc)
            finally:
                self._source.release(drive)  # the batch is done: the drive may serve others
                with self._cond:
                    del self._claimed[disc]
                    self._busy.pop(drive, None)
                    self._cond.notify_all()

    def _serve(self, drive: int, disc_id: int) -> None:
        try:
            if self._source.loaded(drive) != disc_id:
                disc = self._cat.disc(disc_id)
                if disc is None:
                    raise DiscUnavailable(f"disc {disc_id} is not in the catalogue")
                with self._cond:
                    self._busy[drive] = f"loading disc {disc_id}"
                log.info("loading %s into drive %d", self._describe(disc_id), drive)
                self._source.load(drive, disc)
                with self._cond:
                    self.loads.append(disc_id)
                self._cache.record_disc_load(disc_id)
            while True:
                with self._cond:
                    reads = self._next_reads(disc_id)
                    self._busy[drive] = f"reading disc {disc_id}"
                if not reads:
                    return
                for i, r in enumerate(reads):
                    try:
                        self._read_one(drive, r)
                    except BaseException:
                        with self._cond:  # put the unread ones back for the failure path
                            self._queues.setdefault(disc_id, [])[:0] = reads[i:]
                        raise
        except Exception as e:
            self._fail_disc(disc_id, e)

    def _next_reads(self, disc_id: int) -> list[_DiscRead]:
        """The reads waiting for this disc, in order of position; when none wait, those that
        come within `gather_s` (the disc stays in its drive that long: a reader of a burst that
        asks a little after the others finds it still there, not gone until its next load).
        Holds _cond."""
        until = time.monotonic() + self._config.gather_s
        while disc_id not in self._queues and not self._stopping and (left := until - time.monotonic()) > 0:
            self._cond.wait(left)
        return sorted(self._queues.pop(disc_id, []), key=lambda r: r.position)

    def _read_one(self, drive: int, r: _DiscRead) -> None:
        job = r.job
        if job.done.is_set():
            return
        read_into = getattr(self._source, "read_into", None)
        if read_into is not None and len(job.reads) == 1 and job.length >= POOLED_MIN_BYTES:
            job.buffer = job.buffer or self._buffers.take(job.length)  # kept when read again
        view = memoryview(job.buffer) if job.buffer is not None else None
        for image_offset, length, dest in r.parts:
            try:
                if view is not None and read_into is not None:
                    read_into(drive, image_offset, view[dest : dest + length])
                else:
                    job.pieces.append((dest, self._source.read(drive, image_offset, length)))
            except CorruptData as e:  # read again after a failed verification, and no better
                log.error("content %s: %s; %s", job.content.sha256.hex()[:16], e.message, e.hint)
                job.error = e
                self._end(job)  # only this job fails: the rest of the disc reads on
                return
        with self._cond:
            job.outstanding -= 1
            last = job.outstanding == 0
        if last:
            self._finishing.put(job)  # waits while FINISH_QUEUE jobs wait already

    def _finish_jobs(self) -> None:
        """A finisher thread: verify and store the jobs the workers read, until None comes."""
        while (job := self._finishing.get()) is not None:
            try:
                self._finish(job)
            except Exception as e:  # never lose a finisher, nor leave the job's readers waiting
                log.exception("cannot finish the read of content %s", job.content.sha256.hex()[:16])
                job.error = DiscUnavailable(f"content {job.content.sha256.hex()[:16]}: {e}")
                self._end(job)

    def _finish(self, job: _Job) -> None:
        key = job.content.sha256.hex()
        data = job.data()
        try:
            if job.index == WHOLE:
                ok = self._cache.put_whole(key, data)
            else:
                assert job.chunk_sha256 is not None
                ok = self._cache.put_chunk(key, job.content.size, job.index, data, job.chunk_sha256)
            if not ok and self._read_again(job):
                return
            if not ok:
                discs = ", ".join(self._describe(d) for d in sorted(job.discs))
                log.error("content %s read from %s does not match its SHA-256; not served", key, discs)
                job.error = CorruptData(f"content {key[:16]} from {discs} failed verification")
        except CacheFullError as e:  # raised only once the bytes verified
            log.warning(
                "content %s bytes %d+%d served straight from the disc, not kept: %s",
                key[:16],
                job.offset,
                len(data),
                e,
            )
            job.unkept = bytes(data)  # the reused buffer goes back to the pool
        except MountFault as e:
            log.error("cannot store content %s: %s", key, e)
            job.error = e
        self._end(job)

    def _read_again(self, job: _Job) -> bool:
        """After a job failed verification: tell the source which bytes read wrong and queue
        the job's reads once more (True); False when it was read again already or the source
        cannot do better (then the job fails)."""
        suspect = getattr(self._source, "suspect", None)
        if job.retried or suspect is None:
            return False
        log.warning(
            "content %s read from %s does not match its SHA-256; reading it again from the disc's copies"
            " or its error correction",
            job.content.sha256.hex()[:16],
            ", ".join(self._describe(d) for d in sorted(job.discs)),
        )
        for r in job.reads:
            suspect(r.disc, [(image_offset, length) for image_offset, length, _ in r.parts])
        job.retried, job.pieces = True, []
        with self._cond:
            job.outstanding = len(job.reads)
            for r in job.reads:
                self._queues.setdefault(r.disc, []).append(r)
            self._cond.notify_all()
        return True

    def _end(self, job: _Job) -> None:
        job.pieces = []
        buffer, job.buffer = job.buffer, None
        if buffer is not None:
            self._buffers.give(buffer)
        with self._cond:
            if self._jobs.get(job.key) is job:
                del self._jobs[job.key]
        job.done.set()

    def _fail_disc(self, disc_id: int, exc: BaseException) -> None:
        what = self._describe(disc_id)
        log.error("%s cannot be read: %s", what, exc)
        error = exc if isinstance(exc, DiscUnavailable) else DiscUnavailable(f"{what}: {exc}")
        with self._cond:
            reads = self._queues.pop(disc_id, [])
            self.failures += 1
            self._failed[disc_id] = (time.monotonic() + self._config.fault_hold_s, error)
        for r in reads:
            if not r.job.done.is_set():
                r.job.error = error
                self._end(r.job)

    # ---- status and shutdown ----
    def status(self) -> dict[str, Any]:
        with self._cond:
            waiting = {disc: len(reads) for disc, reads in self._queues.items()}
            busy = dict(self._busy)
            loads, failures = len(self.loads), self.failures
        source = self._source.status()
        for d in source.get("drives", []):
            d["activity"] = busy.get(d["drive"], "idle")
        return {"waiting_by_disc": waiting, "disc_loads": loads, "disc_failures": failures, "source": source}

    def close(self, timeout_s: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for w in self._workers:
            w.join(timeout_s)
        for _ in self._finishers:
            self._finishing.put(None)
        for f in self._finishers:
            f.join(timeout_s)
        self._source.close()
