"""`odarchive mount` / `umount` as a user runs them: find, restart, clean unmount, status, refusals."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from odarchive.cli import main
from tests.lib.mount_archive import Archive, build_archive
from tests.lib.mount_conformance import expected_tree
from tests.lib.mount_process import Mounted
from tests.lib.waiting import wait_until


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    return build_archive(tmp_path_factory.mktemp("archive"))


def _flags(archive: Archive, cache: Path) -> tuple[str, ...]:
    return ("--images", str(archive.images), "--cache-dir", str(cache), "--disc-timeout", "20")


def test_find_lists_exactly_the_catalogue(archive: Archive, tmp_path: Path) -> None:
    with Mounted(archive.home, tmp_path / "mnt", *_flags(archive, tmp_path / "cache")) as m:
        out = subprocess.run(["find", str(m.mountpoint / "src"), "-print0"], capture_output=True, check=True).stdout
    root = os.fsencode(m.mountpoint) + b"/"
    found = {p[len(root) :] for p in out.split(b"\0") if p}
    assert found == set(expected_tree(archive.src))


def test_restart_keeps_the_cache(archive: Archive, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    data = (archive.src / "big.bin").read_bytes()
    with Mounted(archive.home, tmp_path / "mnt", *_flags(archive, cache)) as m:
        assert (m.mountpoint / "src" / "big.bin").read_bytes() == data
        m.status(lambda r: r["disc_loads"] == 2)  # big.bin is split over two discs
    with Mounted(archive.home, tmp_path / "mnt", *_flags(archive, cache)) as m:
        assert os.getxattr(m.mountpoint / "src" / "big.bin", "user.odarchive.cached") == b"yes"
        assert (m.mountpoint / "src" / "big.bin").read_bytes() == data
        assert m.quiet_status()["disc_loads"] == 0


def test_unmount_is_clean(archive: Archive, tmp_path: Path) -> None:
    mp = tmp_path / "mnt"
    with Mounted(archive.home, mp, *_flags(archive, tmp_path / "cache")) as m:
        pid = m.status()["pid"]
        (mp / "src" / "hello.txt").read_bytes()
        status = json.loads(
            subprocess.run(
                [sys.executable, "-m", "odarchive", "--home", str(archive.home), "status", "--json"],
                capture_output=True,
                check=True,
                text=True,
            ).stdout
        )
        [job] = [j for j in status["jobs"] if j.get("mountpoint") == str(mp)]
        assert job["state"] == "running" and job["command"] == "mount"
        assert {"waiting_by_disc", "source", "cache", "disc_loads"} <= set(job)
        assert main(["--home", str(archive.home), "umount", str(mp)]) == 0
    assert not os.path.ismount(mp) and os.listdir(mp) == []
    assert not list((archive.home / "jobs").glob("mount-*.json"))
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists() and not _zombie(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists() or _zombie(pid), "the mount process has ended"
    assert "unmounted" in (archive.home / "logs" / "mount.log").read_text()


def _zombie(pid: int) -> bool:
    """An ended process not yet reaped (the test process started it through main())."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return False


def test_refusals(archive: Archive, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mp = tmp_path / "mnt"
    mp.mkdir()
    home = ["--home", str(archive.home)]
    assert main([*home, "mount", str(mp), "--images", str(archive.images), "--cache-dir", str(mp / "cache")]) == 7
    assert "inside the mountpoint" in capsys.readouterr().err
    assert main([*home, "mount", str(tmp_path / "missing"), "--images", str(archive.images)]) == 7
    assert main([*home, "umount", str(mp)]) == 7
    assert "not mounted" in capsys.readouterr().err
    assert main(["--home", str(tmp_path / "nohome"), "mount", str(mp)]) == 4
    assert (
        main([*home, "mount", str(mp), "--images", str(tmp_path / "no-images"), "--cache-dir", str(tmp_path / "c")])
        == 7
    )
    assert "image directory" in capsys.readouterr().err
    assert not os.path.ismount(mp)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    (tmp_path / "a-file").write_text("x")
    flags = ["--images", str(archive.images), "--cache-dir", str(tmp_path / "c")]
    assert main([*home, "mount", str(tmp_path / "full"), *flags]) == 7
    assert "is not empty" in capsys.readouterr().err
    assert main([*home, "mount", str(tmp_path / "a-file"), *flags]) == 7
    err = capsys.readouterr().err
    assert "is a file, not a directory" in err and "mkdir" not in err


def test_many_calls_keep_file_descriptors_bounded(archive: Archive, tmp_path: Path) -> None:
    """libfuse runs callbacks on threads it starts and ends at will: nothing may pile up per call."""
    with Mounted(archive.home, tmp_path / "mnt", *_flags(archive, tmp_path / "cache")) as m:
        pid = m.status()["pid"]
        files = [p for p in (m.mountpoint / "src" / "photos").iterdir()]
        for _ in range(15):
            for p in files:
                p.read_bytes()
                os.listdir(p.parent)
        assert len(os.listdir(f"/proc/{pid}/fd")) < 64


def test_reads_stuck_on_a_disc_leave_room_for_everything_else(archive: Archive, tmp_path: Path) -> None:
    """Reads of a hanging disc end in EIO at --disc-timeout, and meanwhile stat, listing and
    cached reads are served (with reads of more distinct files than libfuse's default
    threads: test_mount_threads.py)."""
    images = tmp_path / "images"
    shutil.copytree(archive.images, images)
    stuck_disc = min(archive.disc_of(b"photos/" + p.name.encode()).pop() for p in (archive.src / "photos").iterdir())
    (images / f"disc{stuck_disc}.iso").unlink()
    os.mkfifo(images / f"disc{stuck_disc}.iso")  # opening it hangs: a drive that never gets ready
    stuck = [
        p.name
        for p in (archive.src / "photos").iterdir()
        if archive.disc_of(b"photos/" + p.name.encode()) == {stuck_disc}
    ]
    other = next(p.name for p in (archive.src / "photos").iterdir() if p.name not in stuck)
    flags = ("--images", str(images), "--cache-dir", str(tmp_path / "cache"), "--disc-timeout", "4")
    with Mounted(archive.home, tmp_path / "mnt", *flags) as m:
        photos = m.mountpoint / "src" / "photos"
        (photos / other).read_bytes()
        errors: list[int] = []

        def blocked(name: str) -> None:
            try:
                (photos / name).read_bytes()
            except OSError as e:
                errors.append(e.errno or 0)

        threads = [threading.Thread(target=blocked, args=(stuck[i % len(stuck)],)) for i in range(40)]
        for t in threads:
            t.start()
        m.status(lambda r: sum(r.get("waiting_by_disc", {}).values()) >= len(stuck))  # every stuck file waits
        t0 = time.monotonic()
        assert (photos / other).read_bytes() == (archive.src / "photos" / other).read_bytes()
        assert len(os.listdir(photos)) == len(os.listdir(archive.src / "photos"))
        assert os.stat(photos / stuck[0]).st_size == (archive.src / "photos" / stuck[0]).stat().st_size
        assert time.monotonic() - t0 < 1.0
        for t in threads:
            t.join(10)
        assert errors == [errno.EIO] * 40
        try:  # let the hanging open finish (if it still hangs), so the mount can stop
            os.close(os.open(images / f"disc{stuck_disc}.iso", os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass


def test_a_mount_whose_process_died_is_refused_then_unmounted(
    archive: Archive, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mp = tmp_path / "mnt"
    home = ["--home", str(archive.home)]
    with Mounted(archive.home, mp, *_flags(archive, tmp_path / "cache")) as m:
        os.kill(m.status()["pid"], 9)

        def gone() -> bool:  # once past the kernel's caches: "Transport endpoint is not connected"
            try:
                os.listdir(mp / "src")
            except OSError:
                return True
            return False

        wait_until(gone, "the dead mount to fail listings")
        assert main([*home, "mount", str(mp), *_flags(archive, tmp_path / "cache")]) == 7
        assert "process died" in capsys.readouterr().err
        assert main([*home, "umount", str(mp)]) == 0
    assert os.listdir(mp) == []
    assert not list((archive.home / "jobs").glob("mount-*.json"))
    with Mounted(archive.home, mp, *_flags(archive, tmp_path / "cache")) as m:  # and it mounts again
        assert (mp / "src" / "hello.txt").read_bytes() == (archive.src / "hello.txt").read_bytes()
