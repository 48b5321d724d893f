"""The small files read ahead by a child process: the bytes the parent takes are the files', in
order; a source that changed stops the image naming it; a child that dies makes the parent
read the files itself."""

from __future__ import annotations

import hashlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from odarchive.iso import readahead
from odarchive.iso.feeder import SourceChanged
from odarchive.iso.readahead import ReadAhead, SmallFile


def _files(tmp_path: Path, n: int) -> list[SmallFile]:
    out = []
    for i in range(n):
        data = b"%d\n" % i * (i % 7)
        p = tmp_path / f"f{i}"
        p.write_bytes(data)
        out.append((os.fsencode(p), len(data), hashlib.sha256(data).digest()))
    return out


def test_the_parent_takes_every_file_in_order(tmp_path: Path) -> None:
    files = _files(tmp_path, 3000)
    ahead = ReadAhead(lambda: iter(files), tmp_path)
    try:
        for path, size, sha in files:
            assert ahead.take(size, sha) == Path(os.fsdecode(path)).read_bytes()
    finally:
        ahead.close()


def test_a_file_taken_out_of_step_is_never_given_another_files_bytes(tmp_path: Path) -> None:
    files = _files(tmp_path, 40)
    ahead = ReadAhead(lambda: iter(files), tmp_path)
    try:
        assert ahead.take(files[0][1], files[0][2]) == Path(os.fsdecode(files[0][0])).read_bytes()
        assert ahead.take(files[2][1], files[2][2]) is None  # the child's next file is files[1]
        assert all(ahead.take(size, sha) is None for _path, size, sha in files[3:])  # the parent reads the rest
    finally:
        ahead.close()


def test_the_child_reads_ahead_at_most_max_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = _files(tmp_path, 100)
    monkeypatch.setattr(readahead, "MAX_BYTES", 50)
    ahead = ReadAhead(lambda: iter(files), tmp_path)
    try:
        got = [ahead.take(size, sha) for _path, size, sha in files]
    finally:
        ahead.close()
    read = [g for g in got if g is not None]
    assert 0 < len(read) < 100 and got[: len(read)] == read  # the first files, then the parent's
    assert read == [Path(os.fsdecode(p)).read_bytes() for p, _s, _h in files[: len(read)]]


def test_a_changed_source_stops_the_image_naming_it(tmp_path: Path) -> None:
    files = _files(tmp_path, 50)
    Path(os.fsdecode(files[20][0])).write_bytes(b"X" * files[20][1])  # same size, other bytes
    ahead = ReadAhead(lambda: iter(files), tmp_path)
    try:
        with pytest.raises(SourceChanged, match=r"f20 changed since it was scanned \(its SHA-256 differs"):
            ahead.take(files[0][1], files[0][2])
    finally:
        ahead.close()


def test_a_child_that_dies_leaves_the_reading_to_the_parent(tmp_path: Path) -> None:
    files = _files(tmp_path, 50)

    def die() -> Iterator[SmallFile]:
        yield files[0]
        os.kill(os.getpid(), signal.SIGKILL)
        yield from files[1:]

    ahead = ReadAhead(die, tmp_path)
    try:
        assert ahead.take(files[0][1], files[0][2]) is None
        assert ahead.take(files[1][1], files[1][2]) is None
    finally:
        ahead.close()
