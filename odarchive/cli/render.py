"""Rendering for the terminal: results as text or JSON, errors, and progress reporters.

Library code reports through `odarchive.progress.Reporter`; here is the tqdm bar for a
terminal and the JSON-lines reporter for `--json` (one object per line on stderr, so that the
final JSON result on stdout stays parseable).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO

from odarchive.progress import NullReporter, Reporter
from odarchive.shown import clip, printable

if TYPE_CHECKING:
    from tqdm import tqdm

ERROR_LINES = 40  # lines of an error message shown at most
ERROR_LINE_CHARS = 1000  # characters per line at most (inputs are quoted shorter, see odarchive.shown)


def say(line: str, file: TextIO | None = None) -> None:
    """Print one human-readable line with every control character and invalid byte in it
    shown escaped (`odarchive.shown.printable`): lines carry names from sources and discs."""
    print(printable(line), file=file or sys.stdout)


def announce(text: str) -> None:
    """A note to the person on stderr ("started the archive service ..."), not part of the result."""
    say(f"odarchive: {text}", file=sys.stderr)


def print_json(obj: object, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    json.dump(obj, out, indent=2, sort_keys=False, default=str)
    out.write("\n")
    out.flush()


def print_error(message: str, hint: str, code: int, kind: str, as_json: bool) -> None:
    """The error on stderr: escaped and bounded whatever it quotes (text), or exact (JSON)."""
    if as_json:
        message = clip(message, ERROR_LINES * ERROR_LINE_CHARS)
        json.dump({"error": kind, "message": message, "hint": hint, "exit_code": code}, sys.stderr)
        sys.stderr.write("\n")
    else:
        sys.stderr.write(f"odarchive: error: {_bounded(message)}\n")
        if hint:
            sys.stderr.write(f"odarchive: hint: {_bounded(hint)}\n")
    sys.stderr.flush()


def _bounded(text: str) -> str:
    lines = text.split("\n")
    shown = [printable(clip(line, ERROR_LINE_CHARS)) for line in lines[:ERROR_LINES]]
    if len(lines) > ERROR_LINES:
        shown.append(f"... ({len(lines) - ERROR_LINES} more lines)")
    return "\n".join(shown)


def event_text(kind: str, fields: Mapping[str, object]) -> str:
    """An event as one human-readable line, every value escaped (values carry names)."""
    return f"odarchive: {kind}: " + " ".join(f"{k}={printable(str(v))}" for k, v in fields.items())


class JsonLinesReporter:
    """Progress as JSON lines on stderr, at most a few per second per phase."""

    def __init__(self, out: TextIO | None = None, interval_s: float = 0.5) -> None:
        self._out = out or sys.stderr
        self._lock = threading.Lock()
        self._interval_s = interval_s
        self._phase = ""
        self._items = self._bytes = 0
        self._totals: tuple[int | None, int | None] = (None, None)
        self._t0 = self._last = 0.0

    def _emit(self, obj: dict[str, object]) -> None:
        self._out.write(json.dumps(obj, default=str) + "\n")
        self._out.flush()

    def _progress(self) -> dict[str, object]:
        elapsed = max(time.monotonic() - self._t0, 1e-9)
        return {
            "event": "progress",
            "phase": self._phase,
            "items": self._items,
            "bytes": self._bytes,
            "total_items": self._totals[0],
            "total_bytes": self._totals[1],
            "items_per_s": round(self._items / elapsed, 1),
            "bytes_per_s": round(self._bytes / elapsed),
        }

    def start(self, phase: str, total_items: int | None = None, total_bytes: int | None = None) -> None:
        with self._lock:
            self._phase, self._items, self._bytes = phase, 0, 0
            self._totals = (total_items, total_bytes)
            self._t0 = self._last = time.monotonic()
            self._emit({"event": "start", "phase": phase, "total_items": total_items, "total_bytes": total_bytes})

    def advance(self, items: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            self._items += items
            self._bytes += nbytes
            now = time.monotonic()
            if now - self._last >= self._interval_s:
                self._last = now
                self._emit(self._progress())

    def event(self, kind: str, **fields: object) -> None:
        with self._lock:
            self._emit({"event": kind, **fields})

    def finish(self) -> None:
        with self._lock:
            p = self._progress()
            p["event"] = "finish"
            self._emit(p)


class TqdmReporter:
    """A tqdm bar per phase (bytes when the total is known, else items), events as lines."""

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out or sys.stderr
        self._lock = threading.Lock()
        self._bar: tqdm | None = None
        self._by_bytes = False

    def start(self, phase: str, total_items: int | None = None, total_bytes: int | None = None) -> None:
        from tqdm import tqdm

        with self._lock:
            if self._bar is not None:
                self._bar.close()
            self._by_bytes = total_bytes is not None
            self._bar = tqdm(
                total=total_bytes if self._by_bytes else total_items,
                desc=phase,
                file=self._out,
                unit="B" if self._by_bytes else " files",
                unit_scale=True,
                unit_divisor=1000,
                dynamic_ncols=True,
                mininterval=0.3,
            )

    def advance(self, items: int = 0, nbytes: int = 0) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.update(nbytes if self._by_bytes else items)

    def event(self, kind: str, **fields: object) -> None:
        with self._lock:
            line = event_text(kind, fields)
            if self._bar is not None:
                self._bar.write(line, file=self._out)
            else:
                self._out.write(line + "\n")

    def finish(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None


def make_reporter(as_json: bool, quiet: bool = False) -> Reporter:
    if quiet:
        return NullReporter()
    if as_json:
        return JsonLinesReporter()
    if sys.stderr.isatty():
        return TqdmReporter()
    return _LineReporter()


class _LineReporter(NullReporter):
    """Not a terminal and not JSON: only events (skipped files, warnings) as plain lines."""

    def event(self, kind: str, **fields: object) -> None:
        sys.stderr.write(event_text(kind, fields) + "\n")
