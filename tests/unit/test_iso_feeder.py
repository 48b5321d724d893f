"""Checked source feeds (whole files, pieces by chunk hashes) and the image sink (holes, hash)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from odarchive.iso.feeder import SourceChanged, SourceFeed, hash_whole
from odarchive.iso.outfile import ImageSink

CHUNK = 1024


def _drain(feed: SourceFeed) -> bytes:
    feed.seek(0)
    out = b""
    while chunk := feed.read(300):
        out += chunk
    return out


def test_whole_file_passes_and_a_changed_file_is_named(tmp_path: Path) -> None:
    f = tmp_path / "a.bin"
    data = os.urandom(5000)
    f.write_bytes(data)
    sha = hashlib.sha256(data).digest()
    feed = SourceFeed(os.fsencode(f), "a.bin", 5000, 0, 5000, CHUNK, sha, None)
    assert _drain(feed) == data
    assert [i for i, _ in feed.chunks.done] == [0, 1, 2, 3, 4]  # chunk hashes of a large content
    f.write_bytes(bytes([data[0] ^ 1]) + data[1:])  # changed whatever random byte came first
    with pytest.raises(SourceChanged, match=r"a\.bin changed since it was scanned"):
        _drain(SourceFeed(os.fsencode(f), "a.bin", 5000, 0, 5000, CHUNK, sha, None))
    f.write_bytes(data[:-1])
    with pytest.raises(SourceChanged, match="size is 4999"):
        _drain(SourceFeed(os.fsencode(f), "a.bin", 5000, 0, 5000, CHUNK, sha, None))


def test_a_piece_is_checked_against_chunk_hashes_around_it(tmp_path: Path) -> None:
    f = tmp_path / "big.bin"
    data = os.urandom(10 * CHUNK + 17)
    f.write_bytes(data)
    whole, chunks, pieces = hash_whole(
        os.fsencode(f), "big.bin", len(data), CHUNK, [(0, 2500), (2500, len(data) - 2500)]
    )
    assert whole == hashlib.sha256(data).digest()
    assert pieces == [hashlib.sha256(data[:2500]).digest(), hashlib.sha256(data[2500:]).digest()]
    expect = dict(chunks)
    feed = SourceFeed(os.fsencode(f), "big.bin", len(data), 2500, 3000, CHUNK, None, expect)
    assert _drain(feed) == data[2500:5500]
    changed = bytearray(data)
    changed[2100] ^= 1  # outside the piece, inside its first chunk
    f.write_bytes(bytes(changed))
    with pytest.raises(SourceChanged, match="chunk 2 differs"):
        _drain(SourceFeed(os.fsencode(f), "big.bin", len(data), 2500, 3000, CHUNK, None, expect))


def test_image_sink_keeps_bytes_hashes_them_and_makes_holes(tmp_path: Path) -> None:
    path = tmp_path / "img"
    out = ImageSink(path)
    out.put(b"head")
    out.pad_to_block(4096)
    out.put(bytes(1 << 20))  # a hole
    out.put(b"tail")
    data = os.urandom(300_000)
    out.put(data)  # large: written directly, hashed on the helper thread
    out.zeros(8192)  # trailing zeros: a hole the file is extended over
    out.close()
    raw = path.read_bytes()
    assert raw[:4] == b"head" and raw[4096 + (1 << 20) :][:4] == b"tail"
    assert raw[4100 + (1 << 20) :][:300_000] == data
    assert len(raw) == out.pos == 4100 + (1 << 20) + 300_000 + 8192
    assert out.sha256 == hashlib.sha256(raw).digest()
    assert path.stat().st_blocks * 512 < 512 * 1024


def test_image_sink_abandoned_leaves_no_hash(tmp_path: Path) -> None:
    out = ImageSink(tmp_path / "img")
    out.put(b"partial")
    out.abandon()
    assert out.sha256 is None
