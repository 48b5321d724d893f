"""What the kernel caches never outlives a refresh: contents (keep_cache), names, attributes.

The mount lets the kernel keep a file's pages across opens and cache names and attributes
for `attr_timeout_s` (60 s by default). A new snapshot in which the same path has other bytes
(same size, same mtime: nothing the kernel could notice by itself) or other attributes must
show through the kernel within `refresh_s` (here 0.2 s) plus a margin.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from odarchive.cli import main
from tests.lib.mount_archive import place_on_discs
from tests.lib.mount_process import Mounted

REFRESH_S = 0.2
DELAY_S = REFRESH_S + 2.0  # documented: within refresh_s; the margin is for a loaded machine
MTIME_NS = 1_600_000_000_000_000_000


def _scan(home: Path, src: Path, images: Path) -> None:
    assert main(["--home", str(home), "create_db", str(src)]) == 0
    place_on_discs(home / "catalogue.sqlite", images, 1, split_largest=False)


def _until(probe, want, seen: set) -> float:
    """Seconds until probe() == want; every value seen on the way is collected."""
    start = time.monotonic()
    while True:
        got = probe()
        seen.add(got)
        if got == want:
            return time.monotonic() - start
        assert time.monotonic() - start < 10, f"still {got!r}, not {want!r}"
        time.sleep(0.02)


def test_new_bytes_and_attributes_show_through_the_kernel_after_a_refresh(tmp_path: Path) -> None:
    src, home, images = tmp_path / "docs", tmp_path / "home", tmp_path / "images"
    src.mkdir()
    f = src / "a.txt"
    f.write_bytes(b"first version\n")
    os.utime(f, ns=(MTIME_NS, MTIME_NS))
    (src / "keep.txt").write_bytes(b"unchanged\n")
    _scan(home, src, images)
    home.joinpath("odarchive.toml").write_text(f"[mount]\nrefresh_s = {REFRESH_S}\n")
    with Mounted(home, tmp_path / "mnt", "--images", str(images), "--cache-dir", str(tmp_path / "cache")) as m:
        p = m.mountpoint / "docs" / "a.txt"
        assert p.read_bytes() == b"first version\n"
        assert p.read_bytes() == b"first version\n"  # kept in the kernel's page cache now
        old = os.stat(p)
        held = open(p, "rb")  # in use across the refresh: the kernel keeps its name and inode

        new = src / "a.new"  # same size, same mtime: only the bytes (and the source's inode) differ
        new.write_bytes(b"other version\n")
        os.utime(new, ns=(MTIME_NS, MTIME_NS))
        os.replace(new, f)
        _scan(home, src, images)
        seen: set = set()
        assert _until(p.read_bytes, b"other version\n", seen) < DELAY_S
        assert seen <= {b"first version\n", b"other version\n"}
        assert p.read_bytes() == b"other version\n"

        f.write_bytes(b"a third, longer version\n")
        os.utime(f, ns=(MTIME_NS + 10**9, MTIME_NS + 10**9))
        _scan(home, src, images)
        assert _until(lambda: os.stat(p).st_size, 24, set()) < DELAY_S
        st = os.stat(p)
        assert st.st_mtime_ns == MTIME_NS + 10**9 and st.st_ino != old.st_ino
        assert p.read_bytes() == b"a third, longer version\n"
        assert held.read() == b"first version\n"  # an open file keeps the bytes it was opened with
        held.close()
        assert (m.mountpoint / "docs" / "keep.txt").read_bytes() == b"unchanged\n"
        assert sorted(os.listdir(m.mountpoint / ".snapshots")) == ["1", "2", "3"]
    assert re.search(r"libfuse 3\.\d+: ", (home / "logs" / "mount.log").read_text())  # the major README names


def test_listings_change_with_a_refresh(tmp_path: Path) -> None:
    """A name added in a new snapshot shows in listings through the kernel, also in a
    directory held open across the refresh (its inode stays, with what the kernel caches of it)."""
    src, home, images = tmp_path / "docs", tmp_path / "home", tmp_path / "images"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.txt").write_bytes(b"a\n")
    (src / "b.txt").write_bytes(b"b\n")
    _scan(home, src, images)
    home.joinpath("odarchive.toml").write_text(f"[mount]\nrefresh_s = {REFRESH_S}\n")
    with Mounted(home, tmp_path / "mnt", "--images", str(images), "--cache-dir", str(tmp_path / "cache")) as m:
        top, sub = m.mountpoint / "docs", m.mountpoint / "docs" / "sub"
        held = os.open(sub, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for _ in range(2):
                assert sorted(os.listdir(top)) == ["b.txt", "sub"] and os.listdir(sub) == ["a.txt"]
            (src / "sub" / "new.txt").write_bytes(b"new\n")
            (src / "c.txt").write_bytes(b"c\n")
            _scan(home, src, images)
            assert _until(lambda: tuple(sorted(os.listdir(sub))), ("a.txt", "new.txt"), set()) < DELAY_S
            assert sorted(os.listdir(top)) == ["b.txt", "c.txt", "sub"]
            assert sorted(os.listdir(f"/proc/self/fd/{held}")) == ["a.txt", "new.txt"]
            assert sorted(os.listdir(m.mountpoint / ".snapshots" / "1" / "docs" / "sub")) == ["a.txt"]
        finally:
            os.close(held)
