"""Large files hashed beside the walk (odarchive.scan.hasher.EarlyHashes): each read once, and
a file that changes after its early hash is still caught by the next scan."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue
from odarchive.scan import hasher as hasher_mod
from odarchive.scan import scan_source
from tests.lib.trees import snapshot_listing, write

BIG = 300 << 10  # over smallfiles.SMALL_FILE: left to the hash phase, or hashed early


def tree(root: Path) -> list[Path]:
    bigs = [root / f"d{i}" / "big.bin" for i in range(3)]
    for i, p in enumerate(bigs):
        write(p, bytes([i]) * BIG)
        for j in range(20):
            write(root / f"d{i}" / f"s{j}", b"%d %d" % (i, j))
    return bigs


def scan(home: Path, src: Path) -> None:
    home.mkdir(exist_ok=True)
    with Catalogue.open(home / "catalogue.sqlite", create=True) as cat:
        scan_source(cat, src)


def test_large_files_are_hashed_once_beside_the_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    bigs = tree(tmp_path / "src")
    calls: list[tuple[bytes, str]] = []
    real = hasher_mod.hash_file

    def spy(path: bytes, chunk_size: int | None = None, stop: threading.Event | None = None):
        calls.append((path, threading.current_thread().name))
        return real(path, chunk_size, stop)

    monkeypatch.setattr(hasher_mod, "hash_file", spy)
    scan(tmp_path / "home", tmp_path / "src")
    assert sorted(p for p, _ in calls) == sorted(os.fsencode(p) for p in bigs)
    assert all(name.startswith("early-hash") for _, name in calls)
    listing = {path: sha for path, kind, _size, sha, _t in snapshot_listing(tmp_path / "home") if kind == "f"}
    for i in range(3):
        assert listing[b"src/d%d/big.bin" % i] == hashlib.sha256(bytes([i]) * BIG).hexdigest()


def test_a_file_changed_after_its_early_hash_is_hashed_again_by_the_next_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    src = tmp_path / "src"
    bigs = tree(src)
    real_take = hasher_mod.EarlyHashes.take

    def take_then_change(self, path: bytes):
        result = real_take(self, path)
        if path == os.fsencode(bigs[1]):
            with open(path, "ab") as f:  # after the early read, before the hash phase stores it
                f.write(b"more")
        return result

    monkeypatch.setattr(hasher_mod.EarlyHashes, "take", take_then_change)
    scan(tmp_path / "home", src)
    first = {p: sha for p, _k, _s, sha, _t in snapshot_listing(tmp_path / "home")}
    assert first[b"src/d1/big.bin"] == hashlib.sha256(bytes([1]) * BIG).hexdigest()  # what was read
    monkeypatch.setattr(hasher_mod.EarlyHashes, "take", real_take)
    scan(tmp_path / "home", src)
    again = {p: sha for p, _k, _s, sha, _t in snapshot_listing(tmp_path / "home")}
    assert again[b"src/d1/big.bin"] == hashlib.sha256(bytes([1]) * BIG + b"more").hexdigest()


def test_closing_stops_a_running_early_hash_at_its_next_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    big = tmp_path / "big.bin"
    big.write_bytes(b"z" * (8 * hasher_mod.BLOCK))
    early = hasher_mod.EarlyHashes(1, 1 << 30)
    reads: list[int] = []
    real_readv = os.readv

    def readv(fd: int, buffers):
        reads.append(fd)
        early._stop.set()  # as `close` does when the scan ends while this file is read
        return real_readv(fd, buffers)

    monkeypatch.setattr(hasher_mod.os, "readv", readv)
    early.submit(os.fsencode(big), big.stat().st_size)
    with pytest.raises(hasher_mod.Cancelled):
        early.take(os.fsencode(big))
    early.close()
    assert len(reads) == 1  # of 8 blocks
