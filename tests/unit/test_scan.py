"""create_db: what a scan records, dedup, incremental re-scans and the bad-input list."""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import threading
import time

import pytest

from odarchive.errors import EXIT_INPUT
from odarchive.scan import hasher as hasher_mod
from tests.lib.trees import row_counts, snapshot_listing, write


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fail_opening(monkeypatch: pytest.MonkeyPatch, suffix: bytes, error: OSError) -> None:
    """The hasher's os.open raises `error` for paths ending in `suffix`."""
    real_open = os.open

    def failing_open(path, flags, *a):
        if os.fsencode(path).endswith(suffix):
            raise error
        return real_open(path, flags, *a)

    monkeypatch.setattr(hasher_mod.os, "open", failing_open)


def test_scan_records_files_dirs_links_and_dedups(cli, home, tmp_path):
    src = tmp_path / "src"
    write(src / "a" / "one.txt", b"same")
    write(src / "b" / "two.txt", b"same")
    write(src / "b" / "three.bin", b"other")
    write(src / "empty.txt", b"")
    (src / "emptydir").mkdir()
    os.symlink("a/one.txt", src / "link")
    os.symlink("..", src / "a" / "loop")  # a loop: stored as a link, never followed

    r = cli("create_db", str(src), "--json")
    assert r.code == 0, r.err
    summary = r.json()
    assert summary["files"] == 4 and summary["skipped"] == 0

    listing = {p: (k, size, h, t) for p, k, size, h, t in snapshot_listing(home)}
    assert listing[b"src/a/one.txt"] == ("f", 4, sha(b"same"), None)
    assert listing[b"src/b/two.txt"][2] == sha(b"same")
    assert listing[b"src/empty.txt"] == ("f", 0, sha(b""), None)
    assert listing[b"src/emptydir"][0] == "d"
    assert listing[b"src/link"] == ("l", len(b"a/one.txt"), None, b"a/one.txt")
    assert listing[b"src/a/loop"] == ("l", 2, None, b"..")
    assert len(listing) == 10  # 4 directories (root included), 4 files, 2 symlinks
    # one content for the duplicates
    info = cli("get_info", "--json").json()
    assert info["files"] == 4 and info["contents"] == 3
    assert info["bytes"] == 4 + 4 + 5 and info["unique_bytes"] == 4 + 5
    assert info["symlinks"] == 2 and info["directories"] == 4


def test_hard_links_are_one_content(cli, home, tmp_path):
    src = tmp_path / "src"
    write(src / "orig", b"hard linked bytes")
    os.link(src / "orig", src / "alias")
    assert cli("create_db", str(src)).code == 0
    info = cli("get_info", "--json").json()
    assert info["files"] == 2 and info["contents"] == 1


def test_special_files_are_skipped_with_reason_and_fifo_does_not_hang(cli, home, tmp_path):
    src = tmp_path / "src"
    write(src / "ok.txt", b"ok")
    os.mkfifo(src / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(src / "sock"))
    os.mknod(src / "null", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    try:
        done = threading.Event()
        result = {}

        def scan():
            result["r"] = cli("create_db", str(src), "--json")
            done.set()

        t = threading.Thread(target=scan, daemon=True)
        t.start()
        assert done.wait(30), "scan hung on a FIFO"
    finally:
        sock.close()
    assert result["r"].code == 0
    info = cli("get_info", "--json", "--skipped").json()
    reasons = {e["path"]: e["reason"] for e in info["skipped_entries"]}
    assert "FIFO" in reasons["src/pipe"]
    assert "socket" in reasons["src/sock"]
    assert "character device" in reasons["src/null"]
    assert info["files"] == 1 and info["skipped"] == 3


def test_names_that_are_not_utf8_and_255_bytes_round_trip(cli, home, tmp_path):
    src = tmp_path / "src"
    odd = b"caf\xe9\xff.txt"
    longname = b"n" * 251 + b".txt"
    assert len(longname) == 255
    write(os.fsencode(src) + b"/" + odd, b"latin-1")
    write(os.fsencode(src) + b"/" + longname, b"long")
    assert cli("create_db", str(src)).code == 0
    paths = {p for p, *_ in snapshot_listing(home)}
    assert b"src/" + odd in paths and b"src/" + longname in paths
    # and through the seed JSON format, byte-exact
    out = tmp_path / "cat.json"
    assert cli("export_json", str(out)).code == 0
    home2 = tmp_path / "home2"
    from odarchive.cli import main

    assert main(["--home", str(home2), "import_json", str(out)]) == 0
    paths2 = {p for p, k, *_ in snapshot_listing(home2) if k == "f"}
    assert paths2 == {b"src/" + odd, b"src/" + longname}


def test_depth_100(cli, home, tmp_path):
    src = tmp_path / "src"
    deep = os.fsencode(src) + b"".join(b"/d%d" % i for i in range(100))
    write(deep + b"/leaf.txt", b"deep")
    assert cli("create_db", str(src)).code == 0
    leaf = [p for p, k, *_ in snapshot_listing(home) if k == "f"]
    assert leaf == [b"src" + deep[len(os.fsencode(src)) :] + b"/leaf.txt"]


@pytest.mark.slow
def test_sparse_file_over_4gib(cli, home, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    size = 4 * 1024**3 + 4096
    with open(src / "sparse.img", "wb") as f:
        f.truncate(size)
        f.seek(size - 5)
        f.write(b"tail!")
    assert cli("create_db", str(src), "--jobs", "2").code == 0
    ((_, _, file_size, sha, _),) = [f for f in snapshot_listing(home) if f[1] == "f"]
    h = hashlib.sha256()
    zeros = bytes(1 << 24)
    left = size - 5
    while left:
        n = min(left, len(zeros))
        h.update(zeros[:n])
        left -= n
    h.update(b"tail!")
    assert (file_size, sha) == (size, h.hexdigest())


def test_sparse_file_with_data_islands_hashes_like_a_plain_read(cli, home, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    with open(src / "islands.img", "wb") as f:
        f.truncate(40 * 1024 * 1024 + 3)
        for where in (0, 5 * 1024 * 1024 + 7, 33 * 1024 * 1024):
            f.seek(where)
            f.write(os.urandom(300_000))
    assert cli("create_db", str(src)).code == 0
    ((_, _, _, sha, _),) = [f for f in snapshot_listing(home) if f[1] == "f"]
    assert sha == hashlib.sha256((src / "islands.img").read_bytes()).hexdigest()


@pytest.mark.parametrize("make", ["missing", "file"])
def test_source_that_is_missing_or_a_file_is_a_clear_error(cli, home, tmp_path, make):
    target = tmp_path / "nope"
    if make == "file":
        target.write_text("i am a file")
    r = cli("create_db", str(target))
    assert r.code == EXIT_INPUT
    assert ("does not exist" if make == "missing" else "is not a directory") in r.err
    assert not (home / "catalogue.sqlite").exists()


def test_unreadable_file_is_skipped_with_reason_and_scan_continues(cli, home, tmp_path, monkeypatch):
    src = tmp_path / "src"
    write(src / "good.txt", b"good")
    write(src / "secret.txt", b"secret")
    fail_opening(monkeypatch, b"secret.txt", PermissionError(13, "Permission denied"))
    r = cli("create_db", str(src), "--json")
    assert r.code == 0
    assert "secret.txt" in r.err  # reported
    info = cli("get_info", "--json", "--skipped").json()
    assert info["files"] == 1
    assert info["skipped_entries"] == [{"path": "src/secret.txt", "reason": "cannot open: Permission denied"}]


def changing_while_read(monkeypatch: pytest.MonkeyPatch, name: str, change, times: int | None = None) -> None:
    """Every read of file `name` (up to `times` reads) is followed by `change()`: the file
    changes while it is being read, on whichever path (small file or hash phase) reads it."""
    real_read, real_readv = os.read, os.readv
    left = {"n": times}

    def after(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").endswith(name) and left["n"] != 0:
            left["n"] = None if left["n"] is None else left["n"] - 1
            change()

    def read(fd, n):
        data = real_read(fd, n)
        after(fd)
        return data

    def readv(fd, buffers):
        n = real_readv(fd, buffers)
        after(fd)
        return n

    monkeypatch.setattr(hasher_mod.os, "read", read)
    monkeypatch.setattr(hasher_mod.os, "readv", readv)


def test_file_changing_while_hashed_is_rehashed(cli, home, tmp_path, monkeypatch):
    src = tmp_path / "src"
    write(src / "moving.txt", b"before")

    def change():
        with open(src / "moving.txt", "wb") as f:
            f.write(b"after!!")

    changing_while_read(monkeypatch, "moving.txt", change, times=1)
    assert cli("create_db", str(src)).code == 0
    (row,) = [x for x in snapshot_listing(home) if x[1] == "f"]
    assert row[2:4] == (7, sha(b"after!!"))
    again = cli("create_db", "--json", str(src)).json()  # the row holds the stat it was hashed with
    assert again["hashed_files"] == 0 and again["unchanged"] == 1


def test_file_that_never_stops_changing_is_recorded_unstable(cli, home, tmp_path, monkeypatch):
    src = tmp_path / "src"
    write(src / "busy.log", b"x")
    write(src / "calm.txt", b"calm")
    changing_while_read(
        monkeypatch, "busy.log", lambda: os.utime(src / "busy.log", ns=(time.time_ns(), time.time_ns()))
    )
    assert cli("create_db", str(src)).code == 0
    info = cli("get_info", "--json", "--skipped").json()
    assert info["files"] == 1
    assert "changed while being read" in info["skipped_entries"][0]["reason"]


def test_rescan_hashes_only_changed_files_and_keeps_old_snapshot(cli, home, tmp_path):
    src = tmp_path / "src"
    for i in range(20):
        write(src / f"d{i % 3}" / f"f{i}.txt", f"file {i}".encode())
    first = cli("create_db", str(src), "--json").json()
    assert first["hashed_files"] == 20
    rows_before = row_counts(home)[0]

    again = cli("create_db", str(src), "--json").json()
    assert again["hashed_files"] == 0 and again["snapshot"] == first["snapshot"] + 1
    assert row_counts(home)[0] == rows_before  # unchanged: no new rows

    write(src / "d1" / "f1.txt", b"changed content")
    os.remove(src / "d2" / "f2.txt")
    third = cli("create_db", str(src), "--json").json()
    assert third["hashed_files"] == 1 and third["files"] == 19
    latest = {p for p, k, *_ in snapshot_listing(home) if k == "f"}
    assert b"src/d2/f2.txt" not in latest
    # the deleted file remains in the older snapshot
    from odarchive.catalogue import Catalogue
    from odarchive.catalogue.tree import resolve

    with Catalogue.open(home / "catalogue.sqlite") as cat:
        assert resolve(cat, b"src/d2/f2.txt", first["snapshot"]) is not None
        assert resolve(cat, b"src/d2/f2.txt", third["snapshot"]) is None
        old = resolve(cat, b"src/d1/f1.txt", first["snapshot"])
        new = resolve(cat, b"src/d1/f1.txt", third["snapshot"])
        assert cat.content(old.content_id)[0].hex() == sha(b"file 1")
        assert cat.content(new.content_id)[0].hex() == sha(b"changed content")

    forced = cli("create_db", str(src), "--rehash", "--json").json()
    assert forced["hashed_files"] == 19


def test_exclude_globs(cli, home, tmp_path):
    src = tmp_path / "src"
    write(src / "keep.txt", b"k")
    write(src / "skip.tmp", b"s")
    write(src / "cache" / "big.bin", b"c")
    assert cli("create_db", str(src), "--exclude", "*.tmp", "--exclude", "cache").code == 0
    paths = {p for p, *_ in snapshot_listing(home)}
    assert paths == {b"src", b"src/keep.txt"}


def test_two_sources_share_one_archive_with_root_names(cli, home, tmp_path):
    write(tmp_path / "usb" / "a.txt", b"a")
    write(tmp_path / "nas" / "b.txt", b"b")
    assert cli("create_db", str(tmp_path / "usb"), "--name", "usb-2019").code == 0
    assert cli("create_db", str(tmp_path / "nas")).code == 0
    assert cli("create_db", str(tmp_path / "usb"), "--name", "usb-2019").code == 0  # snapshot 3
    paths = {p for p, k, *_ in snapshot_listing(home) if k == "f"}
    assert paths == {b"usb-2019/a.txt", b"nas/b.txt"}
    bad = cli("create_db", str(tmp_path / "nas"), "--name", "a/b")
    assert bad.code == EXIT_INPUT and "root name" in bad.err


def test_directory_renamed_away_and_back_is_complete_in_every_snapshot(cli, home, tmp_path):
    """A directory that vanishes has its rows closed; when it comes back with the very same
    listing, the walk must not trust the listing digest it had before."""
    src = tmp_path / "src"
    write(src / "a" / "x.txt", b"x")
    write(src / "a" / "sub" / "y.txt", b"y")
    assert cli("create_db", str(src)).code == 0
    os.rename(src / "a", src / "b")
    assert cli("create_db", str(src)).code == 0
    assert {p for p, k, *_ in snapshot_listing(home) if k == "f"} == {b"src/b/x.txt", b"src/b/sub/y.txt"}
    os.rename(src / "b", src / "a")
    r = cli("create_db", str(src), "--json").json()
    assert {p for p, k, *_ in snapshot_listing(home) if k == "f"} == {b"src/a/x.txt", b"src/a/sub/y.txt"}
    assert r["files"] == 2


def test_file_skipped_once_is_archived_when_readable_again(cli, home, tmp_path, monkeypatch):
    src = tmp_path / "src"
    write(src / "good.txt", b"good")
    write(src / "flaky.txt", b"flaky")
    fail_opening(monkeypatch, b"flaky.txt", OSError(5, "Input/output error"))
    assert cli("create_db", str(src)).code == 0
    assert {p for p, k, *_ in snapshot_listing(home) if k == "f"} == {b"src/good.txt"}
    monkeypatch.undo()
    r = cli("create_db", str(src), "--json").json()
    assert r["hashed_files"] == 1
    assert {p for p, k, *_ in snapshot_listing(home) if k == "f"} == {b"src/good.txt", b"src/flaky.txt"}


def test_unchanged_directories_are_not_compared_row_by_row(cli, home, tmp_path, monkeypatch):
    from odarchive.scan import walker

    src = tmp_path / "src"
    for d in range(5):
        write(src / f"d{d}" / "f.txt", b"%d" % d)
    assert cli("create_db", str(src)).code == 0
    write(src / "d3" / "new.txt", b"new")
    compared = []
    real = walker.Walker._compare

    def spy(self, node, listing):
        compared.append(sorted(item[0] for item in listing))
        return real(self, node, listing)

    monkeypatch.setattr(walker.Walker, "_compare", spy)
    r = cli("create_db", str(src), "--json").json()
    assert r["hashed_files"] == 1
    # only d3 changed (and the root lists d3 with a new mtime)
    assert sorted(compared) == [[b"d0", b"d1", b"d2", b"d3", b"d4"], [b"f.txt", b"new.txt"]]
