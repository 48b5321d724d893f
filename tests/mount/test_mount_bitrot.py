"""Bytes that read without an error but are wrong (bit rot in an image file): the mount's
verification catches them, and the read goes to the disc's error correction, which finds the
wrong sectors by their CRCs and repairs them; every byte served is as archived. Without error
correction only that file fails (EIO); the rest of the disc reads on."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue
from odarchive.cli import main
from tests.lib.mount_archive import make_tree
from tests.lib.mount_process import Mounted
from tests.lib.trees import placements_of, planned_images

pytestmark = pytest.mark.slow  # a mount, dvdisaster's repair of a disc: about 10 s

FILE = "photos/img023.jpg"  # the largest photo


def _rotten_archive(tmp: Path, ecc: str) -> tuple[Path, Path, Path]:
    """(home, source, the image directory) with bytes inside FILE's extent flipped."""
    src, home = tmp / "src", tmp / "home"
    src.mkdir()
    home.mkdir()
    make_tree(src)
    h = ["--home", str(home)]
    assert main([*h, "create_db", str(src)]) == 0
    assert main([*h, "plan_iso", "3M", "--ecc", ecc]) == 0
    assert main([*h, "create_iso", "all"]) == 0
    with Catalogue.open(home / "catalogue.sqlite", readonly=True) as cat:
        ((_, disc, _, _, ((offset, length), *_)),) = placements_of(cat, f"src/{FILE}".encode())
    image = home / "isos" / planned_images(home)[disc].name
    with open(image, "r+b") as f:  # 300 bytes in the middle of the file: no read error, wrong bytes
        f.seek(offset + length // 2)
        good = f.read(300)
        f.seek(offset + length // 2)
        f.write(bytes(b ^ 0xFF for b in good))
    return home, src, image.parent


def _mount_log(home: Path) -> str:
    return (home / "logs" / "mount.log").read_text(errors="replace")


def test_wrong_bytes_are_repaired_with_the_disc_s_error_correction(tmp_path: Path) -> None:
    home, src, images = _rotten_archive(tmp_path, "15%")
    with Mounted(home, tmp_path / "mnt", "--images", str(images), "--cache-dir", str(tmp_path / "cache")) as m:
        assert (m.mountpoint / "src" / FILE).read_bytes() == (src / FILE).read_bytes()
        assert (m.mountpoint / "src" / "hello.txt").read_bytes() == (src / "hello.txt").read_bytes()
    log = _mount_log(home)
    assert "does not match its SHA-256; reading it again" in log, log
    assert "repaired with its error correction" in log, log
    assert not list(home.glob(".mount-ecc-*"))  # the repaired image went with the mount


def test_without_error_correction_only_the_rotten_file_fails(tmp_path: Path) -> None:
    home, src, images = _rotten_archive(tmp_path, "off")
    with Mounted(home, tmp_path / "mnt", "--images", str(images), "--cache-dir", str(tmp_path / "cache")) as m:
        with pytest.raises(OSError) as e:
            (m.mountpoint / "src" / FILE).read_bytes()
        assert e.value.errno == errno.EIO
        for other in ("hello.txt", "photos/img001.jpg"):
            assert (m.mountpoint / "src" / other).read_bytes() == (src / other).read_bytes()
    log = _mount_log(home)
    assert "read wrong (they failed verification); neither a copy" in log, log
