"""restore and verify without images read the burned discs through the robot's service: each
disc loaded once, in disc order, every byte right; `--images DIR` needs no service; a disc
that cannot be read is named, the rest restored."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.lib.trees import disc_copies, disc_ids

pytestmark = pytest.mark.usefixtures("simulator_stopped")


@pytest.fixture
def burned(cli, home: Path, tmp_path: Path) -> Path:
    src = tmp_path / "photos"
    (src / "y").mkdir(parents=True)
    for n in range(6):
        (src / "y" / f"p{n}.jpg").write_bytes(os.urandom(110_000 + n))
    (src / "big.bin").write_bytes(os.urandom(900_000))  # split over discs
    (home / "odarchive.toml").write_text(
        "[robot.simulator]\nspeed = 1000.0\nslots = 20\nblanks = 16\nidle_exit_s = 60.0\n"
    )
    assert cli("create_db", str(src)).code == 0
    assert cli("plan_iso", "1200k").code == 0
    r = cli("robot", "burn", "--segments", "all", "--json")
    assert r.code == 0, r.err
    assert len(r.json()["burned"]) >= 3
    for drive in (0, 1):  # the discs are in their slots, none in a drive
        cli("robot", "unload", "--drive", str(drive))
    shutil.rmtree(home / "isos")  # no image on disk: the discs are the only copy
    return src


def _loads_since(log: Path, offset: int) -> list[int]:
    text = log.read_text()[offset:]
    return [int(d) for d in re.findall(r"event=drive\.loaded drive=\d+ disc=(\d+)", text)]


def _same_tree(a: Path, b: Path) -> None:
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f


@pytest.mark.slow
def test_restore_reads_each_disc_once_in_disc_order(cli, home: Path, burned: Path, tmp_path: Path) -> None:
    log = home / "logs" / "service.log"
    before = len(log.read_text())
    r = cli("restore", "--to", str(tmp_path / "out"), "--json")
    assert r.code == 0, r.err
    discs = disc_ids(home)
    assert r.json()["discs_read"] == discs and r.json()["read_through_robot"] == discs
    assert _loads_since(log, before) == discs  # each disc loaded once, in disc order
    _same_tree(burned, tmp_path / "out" / "photos")


@pytest.mark.slow
def test_verify_discs_through_the_robot_and_a_damaged_one(cli, home: Path, burned: Path) -> None:
    ok = cli("verify", "--discs", "all", "--json")
    assert ok.code == 0, ok.err
    assert ok.json()["ok"] and all(d["ok"] and d["read_bytes_per_s"] > 0 for d in ok.json()["discs"])
    slot = disc_copies(home, 1)[0].slot
    assert cli("robot", "simulate", "--fault", f"unreadable {slot}").code == 0
    bad = cli("verify", "--discs", "0-1", "--json")
    assert bad.code == 1 and "1 of 2 disc(s) failed" in bad.err
    by_disc = {d["disc"]: d for d in bad.json()["discs"]}
    assert by_disc[0]["ok"] and not by_disc[1]["ok"] and "cannot be read" in by_disc[1]["detail"]


@pytest.mark.slow
def test_a_disc_out_of_the_changer_is_named_and_the_rest_restored(
    cli, home: Path, burned: Path, tmp_path: Path
) -> None:
    slot = disc_copies(home, 0)[0].slot
    assert cli("robot", "export", str(slot), "--mail", "1", "--location", "shelf 7").code == 0
    r = cli("restore", "--to", str(tmp_path / "out"), "--json")
    assert r.code == 1, r.err
    out = r.json()
    assert out["missing_discs"] == [0] and "shelf 7" in out["missing_reasons"][0]["reason"]
    assert out["files_restored"] > 0 and all("disc 0" in f["reason"] for f in out["failed"])


def test_restore_from_images_needs_no_service(cli, home: Path, tmp_path: Path) -> None:
    src = tmp_path / "s"
    src.mkdir()
    (src / "a.txt").write_bytes(b"hello\n")
    assert cli("create_db", str(src)).code == 0
    assert cli("plan_iso", "1M").code == 0
    assert cli("create_iso", "all").code == 0
    r = cli("restore", "--to", str(tmp_path / "out"), "--images", str(home / "isos"))
    assert r.code == 0, r.err
    assert (tmp_path / "out" / "s" / "a.txt").read_bytes() == b"hello\n"
    assert not (home / "service.sock").exists() and "archive service" not in r.err
