"""Names and other untrusted text made safe to show a person (terminal output, log lines, errors).

Names come from sources and discs, so they may hold anything but `/` and NUL: escape
sequences that move the cursor or rewrite a line, carriage returns and newlines that forge
output, bytes that are not UTF-8. Like `ls` on a terminal, `printable` shows every such
character visibly instead: control characters as `\\n`, `\\r`, `\\t` or `\\xHH` (C1 controls
and Unicode line separators and bidirectional overrides as `\\uHHHH`), and each byte that is not
valid UTF-8 (a `\\udcHH` surrogate escape in a name decoded with `os.fsdecode`) as `\\xHH`.
Everything else is shown as it is. `quote` also bounds the length, for error messages.

Use them for human-readable output only; `--json` keeps exact names (surrogate escapes).
`EscapingFormatter` applies `printable` to every log message; the wiring layer installs it,
so that log lines of fuse_mount and robot_drivers (which never import odarchive) are escaped
too. This module imports nothing of odarchive.
"""

from __future__ import annotations

import logging
import re

QUOTE_LIMIT = 200  # characters of an input that an error message quotes at most

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# C0 and C1 controls, DEL, surrogates (bytes that were not UTF-8), line/paragraph separators,
# bidirectional marks, embeddings, overrides and isolates (they reorder what follows).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    c = m.group()
    n = ord(c)
    if c in _NAMED:
        return _NAMED[c]
    if n < 0x80:
        return f"\\x{n:02x}"
    if 0xDC80 <= n <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{n - 0xDC00:02x}"
    return f"\\u{n:04x}"


def printable(value: str | bytes) -> str:
    """`value` (a name as str with surrogate escapes, or raw bytes) with every character that
    could mislead a terminal shown as an escape; printable text (any language) unchanged."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        value = bytes(value).decode("utf-8", "surrogateescape")
    return _UNSAFE.sub(_escape, value)


def quote(value: str | bytes, limit: int = QUOTE_LIMIT) -> str:
    """`printable(value)` in single quotes, cut to about `limit` characters (the cut is said)."""
    text = value if isinstance(value, str) else bytes(value).decode("utf-8", "surrogateescape")
    cut = len(text) - limit
    shown = printable(text[:limit] if cut > 0 else text)
    return f"'{shown}'" + (f"... ({cut} more characters)" if cut > 0 else "")


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, saying how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text) - limit} more characters)"


class EscapingFormatter(logging.Formatter):
    """A log formatter whose messages are `printable` and at most `limit` characters (tracebacks
    attached to a record stay as they are: they come from our code, not from input)."""

    def __init__(self, fmt: str, limit: int = 2000) -> None:
        super().__init__(fmt)
        self.limit = limit

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = printable(clip(record.message, self.limit))
        return super().formatMessage(record)
