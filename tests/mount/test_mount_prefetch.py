"""A directory walked name by name is listed once through the kernel (`fuse_mount.prefetch`).

The mount is served in this process (a real kernel mount) so the test can count the lookups
that reach the `Vfs`: after the third name of a small directory, the kernel holds the others
(readdirplus) and their `lstat` never reaches the mount; a directory too large to be read
whole is not listed ahead, so each of its names is still a lookup. What the kernel was given
ahead is forgotten at a refresh like the rest: a new snapshot's attributes show within the
documented delay.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

from fuse_mount.fuse_ops import serve
from fuse_mount.vfs import Vfs
from odarchive.app.mount_adapter import CatalogueAdapter
from odarchive.cli import main

SMALL, LARGE = 12, 40  # entries of the two directories; the Vfs reads whole at most 20 (below)
REFRESH_S = 0.2
DELAY_S = REFRESH_S + 2.0  # as tests/mount/test_mount_refresh.py: the margin is for a loaded machine


class NoBytes:
    """A content reader for a test that reads no file."""

    def read(self, content: object, offset: int, size: int) -> bytes:
        raise AssertionError("no read expected")

    def opened(self, content: object) -> None: ...

    def closed(self, content: object) -> None: ...

    def cached(self, content: object) -> str:
        return "no"


def test_a_walked_directory_is_listed_through_the_kernel_so_its_other_names_need_no_lookup(tmp_path: Path) -> None:
    src, home = tmp_path / "src", tmp_path / "home"
    for sub, count in (("small0", SMALL), ("small1", SMALL), ("small2", SMALL), ("large", LARGE)):
        (src / sub).mkdir(parents=True)
        for i in range(count):
            (src / sub / f"f{i:02d}").write_bytes(b"")
    assert main(["--home", str(home), "create_db", str(src)]) == 0
    cat = CatalogueAdapter(home / "catalogue.sqlite")
    vfs = Vfs(cat, NoBytes(), listing_entries=200, refresh_s=REFRESH_S)  # reads whole up to 20 entries
    looked_up: list[bytes] = []
    listed = threading.Event()
    getattr_of, readdir_of = vfs.getattr, vfs.readdir_attrs

    def counting_getattr(path: bytes):  # type: ignore[no-untyped-def]
        looked_up.append(path)
        return getattr_of(path)

    def noting_readdir(path: bytes):  # type: ignore[no-untyped-def]
        yield from readdir_of(path)
        listed.set()

    vfs.getattr, vfs.readdir_attrs = counting_getattr, noting_readdir  # type: ignore[method-assign]
    mp = tmp_path / "mnt"
    mp.mkdir()
    ready = threading.Event()
    server = threading.Thread(
        target=serve, args=(vfs, str(mp)), kwargs={"on_ready": ready.set, "refresh_s": REFRESH_S}, daemon=True
    )
    server.start()
    try:
        assert ready.wait(30)
        for attempt in range(3):  # another walk if the kernel's caches were dropped from outside
            small = [mp / "src" / f"small{attempt}" / f"f{i:02d}" for i in range(SMALL)]
            listed.clear()
            for p in small[:3]:
                os.lstat(p)
            assert listed.wait(10), "the walked directory was not listed"
            time.sleep(1.0)  # the listing's last reply reaches the kernel (the prefetch thread returns)
            before = len(looked_up)
            for p in small[3:]:
                os.lstat(p)
            if b"/src" not in looked_up[before:]:  # else all was forgotten (drop_caches by someone)
                break
        assert looked_up[before:] == []  # all from the kernel's caches

        listed.clear()
        before = len(looked_up)
        for i in range(LARGE):
            os.lstat(mp / "src" / "large" / f"f{i:02d}")
        in_large = [p for p in looked_up[before:] if p.startswith(b"/src/large/")]
        assert len(in_large) == LARGE  # too large to read whole: never listed ahead
        assert not listed.is_set()

        (src / small[5].parent.name / "f05").write_bytes(b"longer\n")  # a new snapshot: the walked directory changed
        assert main(["--home", str(home), "create_db", str(src)]) == 0
        start = time.monotonic()
        while os.lstat(small[5]).st_size != 7:
            assert time.monotonic() - start < DELAY_S, "the size listed ahead outlived the refresh"
            time.sleep(0.02)
    finally:
        subprocess.run(["fusermount3", "-u", str(mp)], check=False)
        server.join(30)
        cat.close()
