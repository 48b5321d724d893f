"""The ranges a number read from an input file (an imported catalogue.json, a disc's
catalogue.json) must lie in before odarchive uses it.

A file is untrusted input: JSON allows NaN, Infinity, 1e300 and integers of any length, and
a value outside what SQLite (64-bit integers), `os.utime` and `stat` hold must be refused
with the entry named, never reach them. Each check returns None when the value is fine, else
what is wrong with it (a phrase to put after the entry's name).
"""

from __future__ import annotations

import math
from typing import Any

INT64_MAX = 2**63 - 1
MAX_MODE = 0o177777  # st_mode: file type and permission bits
MAX_DISC = 2**31 - 1  # disc and part numbers
MAX_SECONDS = INT64_MAX // 10**9  # an mtime in seconds whose nanoseconds fit 64 bits
MAX_NESTING = 64  # JSON depth: odarchive writes at most 5 levels


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def count_problem(v: Any, limit: int = INT64_MAX) -> str | None:
    """Sizes, offsets, lengths: an integer from 0 to `limit`."""
    if not is_int(v):
        return "not an integer"
    return None if 0 <= v <= limit else f"out of range (0 to {limit})"


def mtime_ns_problem(v: Any) -> str | None:
    """An mtime in nanoseconds: any 64-bit integer (before 1970 is negative)."""
    if not is_int(v):
        return "not an integer"
    return None if -INT64_MAX - 1 <= v <= INT64_MAX else "out of range (a 64-bit count of nanoseconds)"


def seconds_problem(v: Any) -> str | None:
    """The seed format's mtime in seconds: a finite number whose nanoseconds fit 64 bits."""
    if not (is_int(v) or isinstance(v, float)):
        return "not a number"
    if isinstance(v, float) and not math.isfinite(v):
        return "not a finite number"
    return None if -MAX_SECONDS <= v <= MAX_SECONDS else f"out of range (-{MAX_SECONDS} to {MAX_SECONDS} seconds)"


def mode_problem(v: Any) -> str | None:
    if not is_int(v):
        return "not an integer"
    return None if 0 <= v <= MAX_MODE else f"out of range (0 to 0o{MAX_MODE:o})"
