"""The mount with two copies of every disc on the simulated robot: an unreadable disc is
served from its copy, a whole set taken out changes nothing, and a disc with no copy left in
the changer gives EIO with a log line saying where it is kept."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue, images
from odarchive.cli import main
from tests.lib.mount_archive import make_tree
from tests.lib.mount_process import Mounted
from tests.lib.trees import disc_copies, disc_ids


@pytest.fixture(scope="module")
def two_sets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    tmp = tmp_path_factory.mktemp("copies")
    src, home = tmp / "src", tmp / "home"
    src.mkdir()
    home.mkdir()
    make_tree(src)
    (home / "odarchive.toml").write_text(
        "[archive]\ncopies = 2\n[robot.simulator]\nspeed = 500\nmail_slots = 30\n"
        "slots = 60\nblanks = 50\n[mount]\ndisc_timeout_s = 20\n"
    )
    h = ["--home", str(home)]
    assert main([*h, "create_db", str(src)]) == 0
    assert main([*h, "plan_iso", "1200k"]) == 0
    assert main([*h, "robot", "burn", "--segments", "all"]) == 0
    assert main([*h, "robot", "burn", "--segments", "all", "--copy", "B"]) == 0
    yield home, src
    main([*h, "serve", "--stop", "--force"])
    main([*h, "robot", "simulate", "--stop"])


def _slots(home: Path) -> tuple[dict[int, int], dict[int, int]]:
    copies = {d: disc_copies(home, d) for d in disc_ids(home)}
    return {d: c[0].slot for d, c in copies.items()}, {d: c[1].slot for d, c in copies.items() if len(c) > 1}


def _files(src: Path) -> list[Path]:
    return sorted(p for p in src.rglob("*") if p.is_file() and not p.is_symlink())


def test_copies_serve_every_byte(two_sets: tuple[Path, Path], tmp_path: Path) -> None:
    home, src = two_sets
    h = ["--home", str(home)]
    a, b = _slots(home)
    assert main([*h, "robot", "simulate", "--fault", f"unreadable {a[0]}"]) == 0  # disc 0 of set A is damaged
    for disc, slot in sorted(a.items())[1:]:  # every other disc of set A leaves the changer
        assert main([*h, "robot", "export", str(slot), "--mail", str(disc), "--location", "off-site box 1"]) == 0
    with Mounted(home, tmp_path / "mnt", "--cache-dir", str(tmp_path / "cache")) as m:
        for f in _files(src):
            assert (m.mountpoint / "src" / f.relative_to(src)).read_bytes() == f.read_bytes(), f
    log = (home / "logs" / "mount.log").read_text()
    assert f"disc 0 from slot {a[0]} failed" in log and f"disc 0 served by its copy in slot {b[0]}" in log
    w = main([*h, "whereis", "src/hello.txt"])
    assert w == 0


def test_a_disc_with_no_copy_in_the_changer_names_where_it_is(two_sets: tuple[Path, Path], tmp_path: Path) -> None:
    home, _src = two_sets
    h = ["--home", str(home)]
    a, b = _slots(home)
    disc = max(disc_ids(home))
    with Catalogue.open(home / "catalogue.sqlite", readonly=True) as cat:
        rel = next(p[7] for p in images.placements(cat.conn, disc) if p[1] == 0)
    for drive in (0, 1):  # the first test's mount left discs in the drives: shelve them
        main([*h, "robot", "unload", "--drive", str(drive)])
    if a[disc] is not None:
        assert main([*h, "robot", "export", str(a[disc]), "--mail", "28", "--location", "shelf 3"]) == 0
    assert main([*h, "robot", "export", str(b[disc]), "--mail", "29", "--location", "shelf 4"]) == 0
    with Mounted(home, tmp_path / "mnt", "--cache-dir", str(tmp_path / "cache"), "--disc-timeout", "5") as m:
        with pytest.raises(OSError) as e:
            (m.mountpoint / rel.decode()).read_bytes()
        assert e.value.errno == errno.EIO
    log = (home / "logs" / "mount.log").read_text()
    assert f"disc {disc}" in log and "set B: shelf 4" in log
