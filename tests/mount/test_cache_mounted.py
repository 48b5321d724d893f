"""The cache commands against a running mount: stats, pin by a mounted path, evict spares open files."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from odarchive.cli import main
from tests.lib.mount_archive import Archive, build_archive
from tests.lib.mount_process import Mounted
from tests.lib.waiting import wait_until


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return build_archive(tmp_path_factory.mktemp("archive"))


def cache_cmd(archive: Archive, capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    capsys.readouterr()
    code = main(["--home", str(archive.home), "cache", *argv, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def test_cache_commands_on_a_running_mount(archive: Archive, tmp_path: Path, capsys) -> None:
    with Mounted(archive.home, tmp_path / "mnt", "--images", str(archive.images), "--disc-timeout", "20") as m:
        src = m.mountpoint / "src"
        hello, photo = src / "hello.txt", src / "photos" / "img003.jpg"
        assert hello.read_bytes() == (archive.src / "hello.txt").read_bytes()
        copy = (src / "docs" / "copy-of-hello.txt").read_bytes()
        old = (m.mountpoint / ".snapshots" / str(archive.old_snapshot) / "src" / "hello.txt").read_bytes()
        assert copy == old == archive.old_bytes  # one content: the second file is a cache hit
        assert photo.read_bytes() == (archive.src / "photos" / "img003.jpg").read_bytes()
        s = wait_until(
            lambda: (
                (s := cache_cmd(archive, capsys, "stats"))["hits"] >= 1
                and s["misses"] >= 2
                and s["disc_loads"] >= 1
                and s
            ),
            "the mount to flush its counters (at least every second)",
        )
        assert s["bytes_cached"] > 0 and s["max_wait_s"] > 0

        pinned = cache_cmd(archive, capsys, "pin", str(hello))
        assert pinned["sha256"] == hashlib.sha256(hello.read_bytes()).hexdigest() and pinned["cached"]

        # the mount records opens and closes at its next flush (about every second): first the
        # files read so far must show closed, or their handles would stand for the photo's
        wait_until(lambda: cache_cmd(archive, capsys, "stats")["open_handles"] == 0, "the closed files' handles to go")
        with open(photo, "rb") as f:  # an open file in the mount is never evicted
            f.read()
            wait_until(
                lambda: cache_cmd(archive, capsys, "stats")["open_handles"] >= 1,
                "the open file's handle to be recorded",
            )
            cache_cmd(archive, capsys, "evict", "--all")
            assert os.getxattr(photo, "user.odarchive.cached") == b"yes"
            assert os.getxattr(hello, "user.odarchive.cached") == b"yes"  # pinned
        wait_until(lambda: cache_cmd(archive, capsys, "stats")["open_handles"] == 0, "the closed file's handle to go")
        assert cache_cmd(archive, capsys, "evict", "src/photos/img003.jpg")["bytes_freed"] > 0
        assert os.getxattr(photo, "user.odarchive.cached") == b"no"
        assert photo.read_bytes() == (archive.src / "photos" / "img003.jpg").read_bytes()  # fetched again

    replay = cache_cmd(archive, capsys, "replay", "--sizes", "1M")
    assert replay["accesses"] >= 3 and replay["results"][0]["misses"] >= 2


def test_cache_commands_find_the_cache_of_the_running_mount(archive: Archive, tmp_path: Path, capsys) -> None:
    """A mount started with --cache-dir elsewhere (and its own policy) is what `cache stats`
    and `odarchive status` show; --cache-dir names any cache; after unmounting, the home's."""
    elsewhere = tmp_path / "fast-disk" / "cache"
    flags = ("--images", str(archive.images), "--cache-dir", str(elsewhere), "--cache-policy", "size")
    with Mounted(archive.home, tmp_path / "mnt", *flags) as m:
        assert (m.mountpoint / "src" / "hello.txt").read_bytes() == (archive.src / "hello.txt").read_bytes()
        s = wait_until(
            lambda: (s := cache_cmd(archive, capsys, "stats"))["misses"] >= 1 and s, "the miss to be counted"
        )
        assert s["dir"] == str(elsewhere) and s["policy"] == "size" and s["bytes_cached"] > 0
        assert cache_cmd(archive, capsys, "check")["checked"] >= 1
        assert cache_cmd(archive, capsys, "stats", "--cache-dir", str(tmp_path / "other"))["bytes_cached"] == 0
        capsys.readouterr()
        assert main(["--home", str(archive.home), "status"]) == 0
        assert f"cache {elsewhere}:" in capsys.readouterr().out
    assert cache_cmd(archive, capsys, "stats")["dir"] == str(archive.home / "cache")
