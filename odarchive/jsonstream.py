"""JSON read as a stream of events in bounded memory, for catalogue files of any size.

`events(f)` yields ijson's basic events (`start_map`, `map_key`, `end_map`, `start_array`,
`end_array`, `string`, `number`, `boolean`, `null`) from the C parser (yajl), reading 1 MiB
at a time: memory depends on the largest single value, never on the file's size. Nesting
deeper than `max_depth` is refused as it is met. JSON has no NaN or Infinity; the parser
refuses them as any other malformed text.

One thing yajl cannot do is give back the lone surrogate escapes (`\\udcXX`) in which the
catalogue writes bytes of names that are not UTF-8 (Python's surrogateescape). So the stream
is rewritten on its way in: each `\\uD800`-`\\uDFFF` escape becomes the marker U+FDD0 followed
by U+F000 + (code - 0xD800), a U+FDD0 in the text becomes two, and `_restore` undoes both in
the strings that contain a marker (then joins surrogate pairs back into their character).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import ijson

from odarchive.shown import quote

CHUNK_BYTES = 1 << 20
MARK = "\ufdd0"
_ESCAPES = re.compile(rb"\\(?:u([dD][89a-fA-F][0-9a-fA-F]{2})|(u[fF][dD][dD]0)|.)|\xef\xb7\x90", re.DOTALL)
_CONTAINERS = {"start_map": 1, "start_array": 1, "end_map": -1, "end_array": -1}


class JsonStreamError(ValueError):
    """The text is not JSON, or is nested too deeply (the message says where)."""


def _rewrite(m: re.Match[bytes]) -> bytes:
    if m.group(1) is not None:
        return b"\\ufdd0\\u%04x" % (0xF000 + int(m.group(1), 16) - 0xD800)
    if m.group(2) is not None or m.group() == b"\xef\xb7\x90":
        return b"\\ufdd0\\ufdd0"
    return m.group()


class _Rewriter:
    """A file-like object over `f` whose bytes have the surrogate escapes rewritten."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self._carry = b""

    def read(self, n: int = -1) -> bytes:
        if n == 0:  # ijson asks for nothing first, to see whether the file gives bytes
            return b""
        while True:
            chunk = self._f.read(CHUNK_BYTES)
            data = self._carry + chunk
            if not chunk:  # end of the file
                self._carry = b""
                return _ESCAPES.sub(_rewrite, data)
            cut = _safe_cut(data)
            self._carry = data[cut:]
            if cut:
                return _ESCAPES.sub(_rewrite, data[:cut])


def _safe_cut(data: bytes) -> int:
    """A length of `data` that ends between escapes and between UTF-8 sequences."""
    last = data.rfind(b"\\", max(0, len(data) - 6))
    if last >= 0:  # an escape may start in the last 6 bytes: cut before it, keeping backslash pairs whole
        start = last
        while start > 0 and data[start - 1] == 0x5C:
            start -= 1
        return start + 2 * ((last - start) // 2)
    if data.endswith(b"\xef"):
        return len(data) - 1
    if data.endswith(b"\xef\xb7"):
        return len(data) - 2
    return len(data)


def _restore(s: str) -> str:
    out = []
    i = 0
    while True:
        j = s.find(MARK, i)
        if j < 0:
            out.append(s[i:])
            break
        out.append(s[i:j])
        nxt = s[j + 1]
        out.append(MARK if nxt == MARK else chr(0xD800 + ord(nxt) - 0xF000))
        i = j + 2
    return "".join(out).encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def events(f: BinaryIO, max_depth: int) -> Iterator[tuple[str, Any]]:
    """(event, value) pairs of the JSON text in `f`; raises JsonStreamError (naming the keys
    that lead to the problem: numbers too large for 64 bits are refused by the parser too)."""
    keys: list[str] = []  # the last key seen at each depth of the objects around
    try:
        for event, value in ijson.basic_parse(_Rewriter(f), use_float=True):
            step = _CONTAINERS.get(event)
            if step == 1:
                keys.append("")
                if len(keys) > max_depth:
                    raise JsonStreamError(f"{_where(keys)}nested deeper than {max_depth} levels")
            elif step == -1:
                keys.pop()
            elif isinstance(value, str) and MARK in value:
                value = _restore(value)
            if event == "map_key":
                keys[-1] = value
            yield event, value
    except ijson.JSONError as e:
        text = e.args[0] if e.args else ""
        text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        raise JsonStreamError(f"{_where(keys)}{text[:300]}") from None
    except UnicodeDecodeError as e:
        raise JsonStreamError(f"{_where(keys)}not valid UTF-8 text ({e.reason})") from None


def _where(keys: list[str]) -> str:
    shown = [quote(k, 80) for k in keys[:8] if k]
    return f"at {' > '.join(shown)}: " if shown else ""
