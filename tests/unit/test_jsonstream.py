"""odarchive.jsonstream: events from a stream in bounded memory, names with surrogate escapes
back exactly whatever the chunk boundaries, nesting refused past its bound."""

from __future__ import annotations

import io
import json
import re

import ijson
import pytest

from odarchive import jsonstream


class Endless(io.RawIOBase):
    """A seed catalogue.json of `entries` files, produced as it is read (never whole in memory)."""

    def __init__(self, entries: int) -> None:
        self.parts = self._parts(entries)
        self.buf = b""

    def _parts(self, entries: int):
        yield b'{"version": 1, "files": {'
        for i in range(entries):
            sep = b"," if i else b""
            yield sep + b'"%064x": {"size": %d, "mtime": 1.5, "filenames": {"r/d/f%08d": null}}' % (i, i, i)
        yield b"}}"

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        parts, size = [self.buf], len(self.buf)
        for part in self.parts:
            parts.append(part)
            size += len(part)
            if size >= n:
                break
        data = b"".join(parts)
        out, self.buf = data[:n], data[n:]
        return out


def rss_bytes() -> int:
    return int(re.search(r"VmRSS:\s+(\d+)", open("/proc/self/status").read()).group(1)) * 1024


def test_a_large_document_is_read_in_bounded_memory() -> None:
    start, peak, count = rss_bytes(), 0, 0
    for event, _ in jsonstream.events(Endless(50_000), 64):
        count += event == "map_key"
        if count % 10_000 == 0:
            peak = max(peak, rss_bytes() - start)
    assert count == 50_000 * 5 + 2  # version, files; per entry its key, size, mtime, filenames, a name
    # the document is 5 MB (json.load would hold ~50 MB of objects); a chunk or two are held
    assert peak < 20 * 2**20, peak


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 1 << 20])
def test_names_that_are_not_utf8_come_back_exactly_across_chunk_boundaries(monkeypatch, chunk: int) -> None:
    monkeypatch.setattr(jsonstream, "CHUNK_BYTES", chunk)
    names = ["caf\udce9", "\\udcff", "\\\\\udcff\\", "\ufdd0", "\ufdd0\udc80\ufdd0", "😀 é \uf012", "\\u", 'q"\\"']
    utf8 = [n for n in names if not any(0xD800 <= ord(c) <= 0xDFFF for c in n)]
    for doc, ascii_only in (({n: [n] for n in names}, True), ({n: [n] for n in utf8}, False)):
        builder = ijson.ObjectBuilder()
        for event, value in jsonstream.events(io.BytesIO(json.dumps(doc, ensure_ascii=ascii_only).encode()), 64):
            builder.event(event, value)
        assert builder.value == doc


def test_nesting_past_the_bound_and_non_json_numbers_are_refused() -> None:
    with pytest.raises(jsonstream.JsonStreamError, match="nested deeper than 64"):
        list(jsonstream.events(io.BytesIO(b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"), 64))
    for bad in (b'{"a": NaN}', b'{"a": Infinity}', b'{"a": 1e999}', b'{"a": 100000000000000000000}'):
        with pytest.raises(jsonstream.JsonStreamError, match="at 'a'"):
            list(jsonstream.events(io.BytesIO(bad), 64))
