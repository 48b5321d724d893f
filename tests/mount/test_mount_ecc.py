"""The mount through a scratch on the simulated robot (`scratch SLOT FIRST COUNT`: those
sectors give read errors): a file in the scratch is served by the disc's other copy; with the
copy scratched too, by the disc's own error correction (the whole disc read and repaired);
every byte as archived, the log saying which served, the repaired image gone after unmount."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue
from odarchive.cli import main
from tests.lib.mount_archive import make_tree
from tests.lib.mount_process import Mounted
from tests.lib.trees import disc_copies, placements_of

pytestmark = pytest.mark.slow  # two mounts and two burns: about 15 s

SECTOR = 2048
FILE = "photos/img023.jpg"  # the largest photo: about 35 sectors


@pytest.fixture(scope="module")
def scratched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, dict[str, int]]]:
    tmp = tmp_path_factory.mktemp("ecc")
    src, home = tmp / "src", tmp / "home"
    src.mkdir()
    home.mkdir()
    make_tree(src)
    (home / "odarchive.toml").write_text(
        "[archive]\ncopies = 2\n[robot.simulator]\nspeed = 500\nslots = 20\nblanks = 10\n[mount]\ndisc_timeout_s = 60\n"
    )
    h = ["--home", str(home)]
    assert main([*h, "create_db", str(src)]) == 0
    assert main([*h, "plan_iso", "3M", "--ecc", "15%"]) == 0
    assert main([*h, "robot", "burn", "--segments", "all"]) == 0
    assert main([*h, "robot", "burn", "--segments", "all", "--copy", "B"]) == 0
    with Catalogue.open(home / "catalogue.sqlite", readonly=True) as cat:
        ((_, disc, _, _, ((offset, length), *_)),) = placements_of(cat, f"src/{FILE}".encode())
    a, b = (c.slot for c in disc_copies(home, disc)[:2])
    where = {"disc": disc, "a": a, "b": b, "first": offset // SECTOR, "count": -(-length // SECTOR)}
    yield home, src, where
    main([*h, "robot", "simulate", "--stop"])


def _scratch(home: Path, slot: int, where: dict[str, int]) -> None:
    for drive in (0, 1):  # a disc left in a drive keeps its old sidecar until it is loaded again
        main(["--home", str(home), "robot", "unload", "--drive", str(drive)])
    assert (
        main(["--home", str(home), "robot", "simulate", "--fault", f"scratch {slot} {where['first']} {where['count']}"])
        == 0
    )


def _read_through_mount(home: Path, src: Path, tmp: Path) -> str:
    log = home / "logs" / "mount.log"
    before = log.stat().st_size if log.exists() else 0
    with Mounted(home, tmp / "mnt", "--cache-dir", str(tmp / "cache")) as m:
        assert (m.mountpoint / "src" / FILE).read_bytes() == (src / FILE).read_bytes()
        assert (m.mountpoint / "src" / "hello.txt").read_bytes() == b"hello, archive\n"
    assert not list(home.glob(".mount-ecc-*"))  # the repaired image went with the mount
    return log.read_text()[before:]


def test_a_scratched_disc_is_served_by_its_copy(scratched, tmp_path: Path) -> None:
    home, src, where = scratched
    _scratch(home, where["a"], where)
    log = _read_through_mount(home, src, tmp_path)
    assert "read error at byte" in log and "served by its copy 1 (set B)" in log, log
    assert "error correction" not in log


def test_with_every_copy_scratched_the_disc_is_repaired_with_its_ecc(scratched, tmp_path: Path) -> None:
    home, src, where = scratched
    _scratch(home, where["a"], where)
    _scratch(home, where["b"], where)
    log = _read_through_mount(home, src, tmp_path)
    assert "no copy serves; repairing the disc with its error correction" in log, log
    assert f"disc {where['disc']} repaired with its error correction" in log, log
