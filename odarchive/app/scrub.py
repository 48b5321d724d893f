"""`odarchive scrub`: read burned discs back through the changer, check them, record their health.

For each verified copy chosen (`--discs`, `--older-than`): load it into a drive, read the
whole image sequentially (unreadable blocks are counted and read as zeros), and compare its
SHA-256 with the one recorded when the image was written — equal means every byte, hence
every content hash, is right. Otherwise, when the disc carries error correction, the read
is written to a scratch file under the home and repaired with dvdisaster: a repair that
gives the planned image is `corrected` (the disc still serves, but decays), anything else
`failed`; a disc no block of which can be read is `unreadable`. Each result is a row of the
disc's health history (`odarchive.health`). Discs out of the changer are skipped and named.

Each copy is read through the archive service: a read lease for that copy
(`odarchive.app.leased_read`), the drive it hands over read here. `scrub_copy` checks one
copy in a drive already holding it.
For a background scrub: `next_due` picks the copy checked longest ago, and `scrub_copy`'s
`stop()` makes it give the drive up at once (recording nothing) when a read or burn waits;
`scrub_interval_s` parses `[service] scrub`.
"""

from __future__ import annotations

import hashlib
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

from odarchive.app.context import Context
from odarchive.catalogue import Catalogue
from odarchive.catalogue import discs as disc_rows
from odarchive.ecc import formats
from odarchive.errors import InputError
from odarchive.health import BurnedCopy, burned_copies, needing_attention, record
from odarchive.selection import parse_disc_selection

READ_BLOCK = 8 << 20
AHEAD = 3  # blocks read ahead of the hashing
POLL_S = 0.05  # how often `stop` is asked while a block is awaited
SECTOR = 2048
PROBE_SECTORS = 64


class Stopped(Exception):
    """A read-back given up because its `stop()` said so (a read or a burn waits for the drive)."""


def read_back(
    dev: Any, size: int, out: Any | None = None, stop: Callable[[], bool] | None = None
) -> tuple[bytes, int, float]:
    """(SHA-256, unreadable sectors, bytes/s) of the first `size` bytes of the medium in `dev`;
    with `out` (a binary file), the bytes read (zeros where unreadable) are written there.
    A thread reads ahead while this one hashes (both release the GIL), so the drive never
    waits for the hash. `stop` is asked before each block and while waiting for one: True
    raises `Stopped` once the block being read is in (a read cannot be cut short)."""
    digest, bad = hashlib.sha256(), 0
    start = time.monotonic()
    for block, lost in _read_ahead(dev, size, stop):
        if stop is not None and stop():
            raise Stopped("the scrub gave way")
        digest.update(block)
        bad += lost
        if out is not None:
            out.write(block)
    return digest.digest(), bad, size / max(time.monotonic() - start, 1e-9)


def _read_ahead(dev: Any, size: int, stop_asked: Callable[[], bool] | None = None) -> Iterator[tuple[bytes, int]]:
    """(block, unreadable sectors in it) in order, read by a thread up to AHEAD blocks ahead;
    `stop_asked` is polled while a block is awaited (True raises `Stopped`)."""
    blocks: queue.Queue[tuple[bytes, int] | BaseException | None] = queue.Queue(AHEAD)
    stop = threading.Event()

    def reader() -> None:
        try:
            for offset in range(0, size, READ_BLOCK):
                if stop.is_set():
                    return
                blocks.put(_read(dev, offset, min(READ_BLOCK, size - offset)))
            blocks.put(None)
        except BaseException as e:  # handed to the consumer, which raises it
            blocks.put(e)

    thread = threading.Thread(target=reader, name="scrub-read", daemon=True)
    thread.start()
    try:
        while True:
            try:
                item = blocks.get(timeout=POLL_S)
            except queue.Empty:
                if stop_asked is not None and stop_asked():
                    raise Stopped("the scrub gave way") from None
                continue
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # let a reader blocked on a full queue see `stop`
            try:
                blocks.get_nowait()
            except queue.Empty:
                thread.join(0.05)


def _read(dev: Any, offset: int, n: int) -> tuple[bytes, int]:
    from robot_drivers.errors import UnreadableDisc

    try:
        return dev.read(offset, n), 0
    except UnreadableDisc:
        return _sectors(dev, offset, n)


def _sectors(dev: Any, offset: int, n: int) -> tuple[bytes, int]:
    """A block that failed, sector by sector: what can be read, zeros for the rest (a block
    whose first PROBE_SECTORS all fail is taken as lost whole, not tried sector by sector)."""
    from robot_drivers.errors import UnreadableDisc

    parts, lost = [], 0
    for at in range(offset, offset + n, SECTOR):
        k = min(SECTOR, offset + n - at)
        try:
            parts.append(dev.read(at, k))
        except UnreadableDisc:
            parts.append(bytes(k))
            lost += 1
            if lost == PROBE_SECTORS and len(parts) == lost:
                return bytes(n), -(-n // SECTOR)
    return b"".join(parts), lost


def scrub_copy(
    cat: Catalogue, dev: Any, copy: BurnedCopy, scratch: Path, stop: Callable[[], bool] | None = None
) -> dict[str, Any] | None:
    """Read one copy back from the drive `dev` that holds it, record and return its health;
    None (nothing recorded) when `stop()` said to give the drive up first (a background scrub)."""
    try:
        sha, bad, rate = read_back(dev, copy.image_size, stop=stop)
        corrected, result, detail = 0, "ok", None
        if sha != copy.image_sha256:
            corrected, result, detail = _repair(dev, copy, scratch, bad, stop)
    except Stopped:
        return None
    record(cat, copy.disc, copy.copy, result, corrected=corrected, unreadable=bad, read_bytes_per_s=rate, detail=detail)
    return {
        "disc": copy.disc,
        "copy": copy.copy,
        "slot": copy.slot,
        "result": result,
        "corrected_sectors": corrected,
        "unreadable_sectors": bad,
        "read_bytes_per_s": round(rate),
        "detail": detail,
    }


def next_due(cat: Catalogue, older_than_ns: int, skip: Collection[tuple[int, int]] = ()) -> BurnedCopy | None:
    """The copy in the changer checked longest ago, if that is before `older_than_ns` (what a
    background scrub reads next), leaving out the (disc, copy) pairs in `skip`; None when none is due."""
    known = disc_rows.ids(cat.conn)
    due = [c for c in burned_copies(cat, known, older_than_ns) if c.slot is not None and (c.disc, c.copy) not in skip]
    return min(due, key=lambda c: (c.last_checked_ns, c.disc, c.copy)) if due else None


def scrub_interval_s(setting: str | None) -> float | None:
    """`[service] scrub` ("30d", "12h"; "off" or empty: never) in seconds."""
    from odarchive.units import parse_duration

    text = (setting or "").strip().lower()
    if text in ("", "off", "none", "0"):
        return None
    try:
        return parse_duration(text)
    except ValueError as e:
        raise InputError(f"[service] scrub = {setting!r}: {e}", hint='use e.g. scrub = "30d", or "off"') from None


def _repair(
    dev: Any, copy: BurnedCopy, scratch: Path, bad: int, stop: Callable[[], bool] | None = None
) -> tuple[int, str, str]:
    """The read-back did not match: read it into a scratch file and let its ECC repair it."""
    from odarchive.ecc import tool
    from odarchive.hashing import file_sha256

    if bad * SECTOR >= copy.image_size:
        return 0, "unreadable", "no sector of the disc could be read"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".scrub-", dir=scratch) as tmp:
        path = Path(tmp) / f"{copy.label}.iso"
        with open(path, "wb") as out:
            read_back(dev, copy.image_size, out, stop)
        if not (tool.available() and formats.has_ecc(path)):
            return (
                0,
                "failed",
                f"{bad} unreadable sector(s); the read-back differs and the disc has no error correction",
            )
        result = tool.repair(path)
        if result.ok and file_sha256(path) == copy.image_sha256:
            return (
                result.repaired_sectors,
                "corrected",
                f"the error correction repaired {result.repaired_sectors} sector(s)",
            )
        return (
            result.repaired_sectors,
            "failed",
            (
                f"{result.unrepaired_sectors} sector(s) beyond repair"
                if not result.ok
                else "repaired image differs from the planned one"
            ),
        )


def run_scrub(ctx: Context, client: Any, spec: str, older_than_s: float | None, reporter: Any) -> dict[str, Any]:
    """Scrub the chosen copies through the service (`client`), in disc order."""
    from odarchive.app.leased_read import leased_disc
    from odarchive.app.robot_config import robot_config
    from odarchive.catalogue import Catalogue

    xorriso = robot_config(ctx).xorriso

    with Catalogue.open(ctx.home.catalogue) as cat:
        known = disc_rows.ids(cat.conn)
        discs = parse_disc_selection(spec, known, what="--discs")
        cutoff = time.time_ns() - int(older_than_s * 1e9) if older_than_s is not None else None
        todo = burned_copies(cat, discs, cutoff)
        inside = [c for c in todo if c.slot is not None]
        outside = [{"disc": c.disc, "copy": c.copy, "location": c.location} for c in todo if c.slot is None]
        reporter.start("scrub", total_items=len(inside), total_bytes=sum(c.image_size for c in inside))
        checked = []
        try:
            for c in inside:
                reporter.event("scrubbing", disc=c.disc, copy=c.copy, slot=c.slot)
                with leased_disc(client, c.disc, "scrub", copy=c.copy, xorriso=xorriso) as dev:
                    checked.append(scrub_copy(cat, dev, c, ctx.home.root))
                reporter.advance(items=1, nbytes=c.image_size)
        finally:
            reporter.finish()
        return {"scrubbed": checked, "not_in_changer": outside, "attention": needing_attention(cat)}


def image_from_copy(cat: Catalogue, client: Any, disc: int, isos: Path, xorriso: str = "xorriso") -> Path | None:
    """Read disc `disc`'s planned image back from a verified copy that reads identical
    (through the service, `client`), into `isos` (for burning a replacement when the image
    file is gone); None if no copy does."""
    from odarchive.app.leased_read import leased_disc

    image_name = disc_rows.image_name(cat.conn, disc)
    for copy in burned_copies(cat, [disc]):
        if copy.slot is None:
            continue
        final = isos / (image_name or f"{copy.label}.iso")
        partial = isos / f".{final.name}.partial"
        isos.mkdir(parents=True, exist_ok=True)
        with (
            leased_disc(client, disc, "robot burn --replace", copy=copy.copy, xorriso=xorriso) as dev,
            open(partial, "wb") as out,
        ):
            sha, bad, _rate = read_back(dev, copy.image_size, out)
        if sha == copy.image_sha256 and not bad:
            os.replace(partial, final)
            return final
        partial.unlink(missing_ok=True)
    return None
