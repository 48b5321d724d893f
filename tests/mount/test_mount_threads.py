"""Reads waiting for a disc never hold up the rest of the mount, through the kernel.

libfuse serves each request on a worker thread; 3.14 starts at most 10 unless told otherwise,
so ten reads waiting for a disc used to stop every stat, listing and cached read until the
disc came (`fuse_ops.MAX_THREADS`). Here more reads than that, each of another file (reads of
one file queue on its page lock inside the kernel and hold one thread only), wait for a disc
whose drive never gets ready, while another process stats, lists and reads what needs no disc.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path

from odarchive.cli import main
from tests.lib.mount_archive import place_on_discs
from tests.lib.mount_process import Mounted

WAITING = 16  # more than libfuse 3.14's default of 10 worker threads


def _until(probe, what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not probe():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_reads_waiting_on_more_files_than_libfuse_had_threads_leave_stat_and_cached_reads_alone(tmp_path: Path) -> None:
    src, home, images = tmp_path / "src", tmp_path / "home", tmp_path / "images"
    (src / "stuck").mkdir(parents=True)
    (src / "other" / "deep").mkdir(parents=True)
    for i in range(WAITING):
        (src / "stuck" / f"f{i:02d}").write_bytes(b"on the stuck disc %d\n" % i)
    assert main(["--home", str(home), "create_db", str(src)]) == 0
    place_on_discs(home / "catalogue.sqlite", images, 1, split_largest=False)  # disc 0: the stuck files
    (src / "other" / "cached.txt").write_bytes(b"on a disc that works\n")
    (src / "other" / "deep" / "unseen.txt").write_bytes(b"never looked up before\n")
    assert main(["--home", str(home), "create_db", str(src)]) == 0
    place_on_discs(home / "catalogue.sqlite", images, 1, split_largest=False)  # disc 1: the others
    (images / "disc0.iso").unlink()
    os.mkfifo(images / "disc0.iso")  # opening it hangs: a drive that never gets ready
    flags = ("--images", str(images), "--cache-dir", str(tmp_path / "cache"), "--disc-timeout", "120")
    with Mounted(home, tmp_path / "mnt", *flags) as m:
        top = m.mountpoint / "src"
        assert (top / "other" / "cached.txt").read_bytes() == b"on a disc that works\n"  # now in the cache
        errors: list[int] = []

        def wait_for_disc(i: int) -> None:
            try:
                (top / "stuck" / f"f{i:02d}").read_bytes()
            except OSError as e:
                errors.append(e.errno or 0)

        readers = [threading.Thread(target=wait_for_disc, args=(i,)) for i in range(WAITING)]
        for t in readers:
            t.start()
        try:
            _until(
                lambda: sum(m.status().get("waiting_by_disc", {}).values()) == WAITING,
                f"not all {WAITING} reads reached the mount: a cap on libfuse's threads holds the rest back",
            )
            answered: dict[str, float] = {}

            def probe() -> None:  # each of these reaches the mount (nothing the kernel has cached)
                t0 = time.monotonic()
                answered["stat"] = os.lstat(top / "other" / "deep" / "unseen.txt").st_size
                answered["listing"] = len(os.listdir(top / "other" / "deep"))
                fd = os.open(top / "other" / "cached.txt", os.O_RDONLY | os.O_DIRECT)  # past the page cache
                try:
                    answered["cached read"] = len(os.read(fd, 4096))
                finally:
                    os.close(fd)
                answered["seconds"] = time.monotonic() - t0

            prober = threading.Thread(target=probe, daemon=True)
            prober.start()
            prober.join(10)
            assert not prober.is_alive(), f"stat and cached reads stalled behind {WAITING} reads waiting for a disc"
            assert answered == {"stat": 23, "listing": 1, "cached read": 21, "seconds": answered["seconds"]}
            assert answered["seconds"] < 5.0
            assert errors == [] and all(t.is_alive() for t in readers)  # still waiting for their disc
        finally:
            try:  # the drive "gets ready": an empty disc, so the waiting reads end in EIO
                os.close(os.open(images / "disc0.iso", os.O_WRONLY | os.O_NONBLOCK))
            except OSError:
                pass
            for t in readers:
                t.join(60)
        assert errors == [errno.EIO] * WAITING
