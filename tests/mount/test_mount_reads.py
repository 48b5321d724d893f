"""What a cached read costs the mount's process, through the kernel.

Each read allocates two buffers of up to 1 MiB; left to glibc's defaults, that memory went
back to the kernel at every free, so each byte served cost two page faults and a page clear
(two thirds of the mount's CPU in a cached sequential read). `fuse_lib.keep_read_buffers`
keeps it: reading 16 MiB from the cache must fault only a few hundred pages, not 8,192.
"""

from __future__ import annotations

import os
from pathlib import Path

from odarchive.cli import main
from tests.lib.mount_archive import place_on_discs
from tests.lib.mount_process import Mounted

SIZE = 16 << 20
MAX_FAULTS = 1_000
"""Page faults allowed for one pass over SIZE bytes (without keep_read_buffers: ~11,600)."""
PASSES = 5
"""Passes at most: a pass counts every fault of the mount's process, so a libfuse thread that
serves its first read in that pass (more threads serve when the machine is loaded) still faults
its own buffers in, and the status writer runs meanwhile; without the fix every pass faults
every page again, so the best pass after the first tells the two apart."""


def _minor_faults(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[7])  # minflt: the 10th field of stat, the 8th after the command name


def test_a_cached_read_reuses_the_mount_s_buffers(tmp_path: Path) -> None:
    src, home, images = tmp_path / "src", tmp_path / "home", tmp_path / "images"
    src.mkdir()
    data = os.urandom(1 << 20) * (SIZE >> 20)
    (src / "big.bin").write_bytes(data)
    assert main(["--home", str(home), "create_db", str(src)]) == 0
    place_on_discs(home / "catalogue.sqlite", images, 1, split_largest=False)
    flags = ("--images", str(images), "--cache-dir", str(tmp_path / "cache"), "--cache-min-free", "0")
    with Mounted(home, tmp_path / "mnt", *flags) as m:
        path = m.mountpoint / "src" / "big.bin"
        assert path.read_bytes() == data  # from the disc image into the cache
        pid = m.status()["pid"]
        passes = []
        for _ in range(PASSES):  # from the second on, buffers from the earlier ones are there to reuse
            fd = os.open(path, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # the kernel forgets its pages: read from the cache
            before = _minor_faults(pid)
            got = b"".join(iter(lambda: os.read(fd, 1 << 20), b""))  # noqa: B023 (consumed here)
            passes.append(_minor_faults(pid) - before)
            os.close(fd)
            assert got == data
            if len(passes) > 1 and passes[-1] < MAX_FAULTS:
                break
        assert min(passes[1:]) < MAX_FAULTS, (
            f"page faults of the mount for {SIZE >> 20} MiB served from its cache, by pass: {passes}"
        )
