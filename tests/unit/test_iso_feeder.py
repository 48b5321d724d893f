"""Checked source feeds (whole files, pieces by chunk hashes) and the sparse image file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from odarchive.iso.feeder import SourceChanged, SourceFeed, hash_whole
from odarchive.iso.outfile import SparseImageFile

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
    f.write_bytes(b"x" + data[1:])
    with pytest.raises(SourceChanged, match="a.bin changed since it was scanned"):
        _drain(SourceFeed(os.fsencode(f), "a.bin", 5000, 0, 5000, CHUNK, sha, None))
    f.write_bytes(data[:-1])
    with pytest.raises(SourceChanged, match="size is 4999"):
        _drain(SourceFeed(os.fsencode(f), "a.bin", 5000, 0, 5000, CHUNK, sha, None))


def test_a_piece_is_checked_against_chunk_hashes_around_it(tmp_path: Path) -> None:
    f = tmp_path / "big.bin"
    data = os.urandom(10 * CHUNK + 17)
    f.write_bytes(data)
    whole, chunks, pieces = hash_whole(os.fsencode(f), "big.bin", len(data), CHUNK, [(0, 2500), (2500, len(data) - 2500)])
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


def test_sparse_image_file_keeps_bytes_and_makes_holes(tmp_path: Path) -> None:
    path = tmp_path / "img"
    out = SparseImageFile(path)
    out.write(b"head")
    out.seek(4096)
    out.write(bytes(1 << 20))  # a hole
    out.write(b"tail")
    out.seek(0, os.SEEK_END)
    out.seek(out.tell() + 8191)
    out.write(bytes(1))  # pycdlib's last-byte padding
    out.close()
    raw = path.read_bytes()
    assert raw[:4] == b"head" and raw[4096 + (1 << 20):][:4] == b"tail"
    assert len(raw) == 4096 + (1 << 20) + 4 + 8192 and raw.count(0) == len(raw) - 8
    assert path.stat().st_blocks * 512 < 512 * 1024


@pytest.mark.parametrize("backwards", [False, True])
def test_image_hash_while_writing_matches_the_file(tmp_path: Path, backwards: bool) -> None:
    path = tmp_path / "img"
    out = SparseImageFile(path, stream_from=8192)
    out.seek(100_000)
    out.write(b"anchor")  # metadata written ahead of the data, as pycdlib does
    out.seek(0)
    out.write(b"metadata")
    out.seek(8192)
    out.write(os.urandom(70_000))
    out.seek(80_000)
    out.write(bytes(MIN_HOLE := 65536))
    if backwards:
        out.seek(9000)
        out.write(b"rewritten")
    out.close()
    assert out.sha256 == hashlib.sha256(path.read_bytes()).digest()
    assert out.streaming is not backwards


def test_zero_data_written_in_sequence_becomes_holes(tmp_path: Path) -> None:
    path = tmp_path / "img"
    out = SparseImageFile(path, stream_from=4096)
    out.write(b"meta")
    out.seek(4096)
    out.write(b"first")
    out.seek(8192)
    for _ in range(8):
        out.write(bytes(1 << 20))
    out.write(b"last")
    out.close()
    assert path.stat().st_blocks * 512 < 1 << 20
    assert out.sha256 == hashlib.sha256(path.read_bytes()).digest()
