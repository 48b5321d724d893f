"""`odarchive robot burn` end to end: the simulator, the real xorriso on stdio: drives, the catalogue."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from odarchive.burnlog import BurnLog
from odarchive.catalogue import Catalogue
from robot_drivers.simulator import control
from robot_drivers.simulator.mechanism import Mechanism
from tests.lib.robot_sim import arm, media_places, setup_home
from tests.lib.trees import placements_of, planned_images


@pytest.fixture(autouse=True)
def stop_simulator(home: Path):
    yield
    control.stop(home / "robot")


def disc_rows(home: Path) -> dict[int, tuple]:
    """Disc -> (state, slot, burn_drive, verified_ns) as the burn record has them."""
    with Catalogue.open(home / "catalogue.sqlite", readonly=True) as cat:
        return {d.disc: (d.state, d.slot, d.burn_drive, d.verified_ns) for d in BurnLog(cat).discs()}


def medium_bytes(home: Path, slot: int) -> bytes:
    """What a disc in `slot` holds, read from the simulator's medium file."""
    st = Mechanism(home / "robot", Mechanism.stored_config(home / "robot")).snapshot()
    return (home / "robot" / "media" / f"{st['slots'][slot - 1]}.img").read_bytes()


def burning_after_disc_0(home: Path) -> bool:
    """Disc 0 is verified and shelved, and another medium in drive 0 has started to take an image."""
    if not (home / "catalogue.sqlite").exists():
        return False
    state, slot = disc_rows(home)[0][:2]
    if state != "verified" or slot is None:
        return False
    mech = Mechanism(home / "robot", Mechanism.stored_config(home / "robot"))
    st = mech.snapshot()
    medium = st["drives"][0]["medium"]
    written = mech.store.drive_file(0)  # a medium in a drive is written in the drive's file
    return medium is not None and medium != st["slots"][slot - 1] and written.exists() and written.stat().st_size > 0


def assert_shelved_and_identical(home: Path, images: dict[int, Path], discs: list[int]) -> None:
    rows = disc_rows(home)
    slots = [rows[d][1] for d in discs]
    assert len(set(slots)) == len(discs) and None not in slots
    for d in discs:
        state, slot, _drive, verified_ns = rows[d]
        assert state == "verified" and verified_ns
        data = images[d].read_bytes()
        assert hashlib.sha256(medium_bytes(home, slot)[: len(data)]).digest() == hashlib.sha256(data).digest()


def test_burn_four_discs_on_two_drives(cli, home: Path) -> None:
    images = setup_home(home, 4)
    r = cli("robot", "burn", "--segments", "0-3", "--json")
    assert r.code == 0, r.err
    result = r.json()
    assert sorted(b["disc"] for b in result["burned"]) == [0, 1, 2, 3]
    assert {b["drive"] for b in result["burned"]} == {0, 1}  # both drives worked
    assert_shelved_and_identical(home, images, [0, 1, 2, 3])
    assert cli("get_info", "--json").json()["burned"] == 4
    inv = cli("robot", "inventory", "--json").json()
    by_disc = {s["disc"]: s for s in inv["slots"] if s["disc"] is not None}
    assert sorted(by_disc) == [0, 1, 2, 3] and all(s["state"] == "recorded" for s in by_disc.values())
    assert all(d["state"] == "empty" and d["disc"] is None for d in inv["drives"])
    again = cli("robot", "burn", "--segments", "all", "--json").json()
    assert again["burned"] == [] and again["skipped"] == [0, 1, 2, 3]


def test_failed_burn_rejects_the_medium_and_retries_on_another(cli, home: Path) -> None:
    images = setup_home(home, 2, drives=1)
    assert cli("robot", "status").code == 0  # starts the simulator
    arm(home / "robot", "burnfail 40 1")
    r = cli("robot", "burn", "--segments", "0,1", "--json")
    assert r.code == 0, r.err
    rejected = r.json()["rejected_media"]
    assert len(rejected) == 1 and rejected[0]["disc"] == 0 and "failed" in rejected[0]["reason"]
    assert_shelved_and_identical(home, images, [0, 1])
    assert rejected[0]["slot"] not in {disc_rows(home)[d][1] for d in (0, 1)}


def test_jam_during_burn_leaves_an_exact_record_and_the_next_run_finishes(cli, home: Path) -> None:
    images = setup_home(home, 4, drives=1)
    assert cli("robot", "status").code == 0
    # motions: inventory-free; disc 0 load+unload, disc 1 load; its unload jams (disc 1 burned, in the drive)
    arm(home / "robot", "jam 3")
    r = cli("robot", "burn", "--segments", "0-3")
    assert r.code == 6 and "jam" in r.err.lower() and "reset" in r.err
    rows = disc_rows(home)
    assert rows[0][0] == "verified" and rows[0][1] is not None
    assert rows[1][0] == "verified" and rows[1][1] is None  # verified, still in drive 0
    assert rows[2][0] == "written" and rows[3][0] == "written"
    assert cli("get_info", "--json").json()["burned"] == 2
    places = media_places(home / "robot")
    assert "drive 0" in places.values()
    assert cli("robot", "reset").code == 0
    r = cli("robot", "burn", "--segments", "0-3", "--json")
    assert r.code == 0, r.err
    assert sorted(b["disc"] for b in r.json()["burned"]) == [2, 3]
    assert_shelved_and_identical(home, images, [0, 1, 2, 3])  # disc 1 was put back and recorded
    assert set(media_places(home / "robot")) == set(places)  # no disc lost


@pytest.mark.slow
def test_interrupted_burn_continues_on_the_next_run(cli, home: Path) -> None:
    # images of ~660 kB at 800 kB/s (x1000 speed): close to a second per disc, time to kill mid-way
    images = setup_home(home, 3, drives=1, extra="write_bytes_per_s = 800.0\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "odarchive", "--home", str(home), "robot", "burn", "--segments", "all"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not burning_after_disc_0(home):
            assert time.monotonic() < deadline, "disc 1 never started to burn"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    rows = disc_rows(home)
    assert rows[0][0] == "verified" and rows[2][0] == "written"
    r = cli("robot", "burn", "--segments", "all", "--json")
    assert r.code == 0, r.err
    assert 0 not in [b["disc"] for b in r.json()["burned"]]
    assert_shelved_and_identical(home, images, [0, 1, 2])
    half = [m for m in r.json()["rejected_media"] if "interrupted" in m["reason"]]
    assert len(half) == 1 and half[0]["slot"] not in {disc_rows(home)[d][1] for d in (0, 1, 2)}


def test_bad_segments(cli, home: Path) -> None:
    setup_home(home, 2)
    assert cli("robot", "burn", "--segments", "5-2").code == 2
    r = cli("robot", "burn", "--segments", "0-7")
    assert r.code == 5 and "no planned disc" in r.err


@pytest.mark.slow
def test_plan_build_burn_and_verify_the_read_back(cli, home: Path, tmp_path: Path) -> None:
    """The real pipeline: create_db, plan_iso, then robot burn builds each image and burns it."""
    src = tmp_path / "photos"
    src.mkdir()
    for n in range(3):
        (src / f"p{n}.jpg").write_bytes(bytes([n]) * 300_000)
    (home / "odarchive.toml").write_text(
        "[robot.simulator]\nspeed = 1000.0\nslots = 10\nblanks = 8\nidle_exit_s = 60.0\n"
    )
    assert cli("create_db", str(src)).code == 0
    assert cli("plan_iso", "900k").code == 0
    r = cli("robot", "burn", "--segments", "all", "--json")
    assert r.code == 0, r.err
    burned = r.json()["burned"]
    assert len(burned) >= 3
    out = tmp_path / "read-back"
    out.mkdir()
    rows = disc_rows(home)
    for disc, image in planned_images(home).items():
        state, slot = rows[disc][:2]
        assert state == "verified" and image.name is not None and image.size is not None
        (out / image.name).write_bytes(medium_bytes(home, slot)[: image.size])  # what the disc holds
    v = cli("verify", *sorted(str(p) for p in out.iterdir()))
    assert v.code == 0, v.out + v.err


def test_only_the_planned_image_is_burned(cli, home: Path, tmp_path: Path) -> None:
    """Issue 10: an image truncated to a third is rebuilt (its sources match); an image changed
    after its source changed too is refused, never burned nor recorded verified; the rest burn."""
    src = tmp_path / "photos"
    for d in ("a", "b", "c"):
        (src / d).mkdir(parents=True)
        for n in range(3):
            (src / d / f"p{n}.jpg").write_bytes(bytes([n, ord(d)]) * 50_000)
    (home / "odarchive.toml").write_text(
        "[robot.simulator]\nspeed = 1000.0\nslots = 10\nblanks = 8\nidle_exit_s = 60.0\n"
    )
    assert cli("create_db", str(src)).code == 0
    assert cli("plan_iso", "900k").code == 0
    assert cli("create_iso", "all").code == 0
    planned = {d: (p.name, p.size, p.sha256) for d, p in planned_images(home).items()}
    assert len(planned) >= 3
    first = home / "isos" / planned[0][0]
    first.write_bytes(first.read_bytes()[: planned[0][1] // 3])  # a copy cut short
    second = home / "isos" / planned[1][0]
    data = bytearray(second.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte changed
    second.write_bytes(bytes(data))
    changed = next(p for p in sorted(src.rglob("*.jpg")) if _disc_of(home, p, src) == 1)
    changed.write_bytes(b"new content" * 1000)
    r = cli("robot", "burn", "--segments", "0-2", "--json")
    assert r.code == 5, r.err
    result = r.json()
    assert [x["disc"] for x in result["refused"]] == [1] and "changed" in result["refused"][0]["reason"]
    assert "disc 1 refused" in r.err
    assert [x["disc"] for x in result["rebuilt"]] == [0] and "truncated" in result["rebuilt"][0]["reason"]
    assert sorted(b["disc"] for b in result["burned"]) == [0, 2]
    rows = disc_rows(home)
    assert rows[1][0] != "verified" and rows[1][1] is None
    now = {d: (p.size, p.sha256) for d, p in planned_images(home).items()}
    for d in (0, 2):
        medium = medium_bytes(home, rows[d][1])[: now[d][0]]
        assert hashlib.sha256(medium).digest() == now[d][1]  # the disc holds the recorded image
    assert now[2] == planned[2][1:]  # an intact image is burned as it was planned


def _disc_of(home: Path, path: Path, src: Path) -> int:
    with Catalogue.open(home / "catalogue.sqlite", readonly=True) as cat:
        ((_, disc, _, _, _),) = placements_of(cat, (src.name + "/" + str(path.relative_to(src))).encode())
    return disc


def test_burn_with_a_bin_autoloader(cli, home: Path) -> None:
    """Generic dialect: blanks from the input bin, burned discs to the output bin, rejects to the reject bin."""
    images = setup_home(home, 3, drives=1, blanks=5, extra='dialect = "generic"\n')
    assert cli("robot", "status").code == 0
    arm(home / "robot", "burnfail 30 1")
    r = cli("robot", "burn", "--segments", "all", "--json")
    assert r.code == 0, r.err
    assert sorted(b["disc"] for b in r.json()["burned"]) == [0, 1, 2]
    assert all(b["slot"] is None for b in r.json()["burned"])
    places = sorted(media_places(home / "robot").values())
    assert places == ["bin input", "bin output", "bin output", "bin output", "bin reject"]
    assert all(row[0] == "verified" for row in disc_rows(home).values())
    st = Mechanism(home / "robot", Mechanism.stored_config(home / "robot")).snapshot()
    out = [(home / "robot" / "media" / f"{m}.img").read_bytes() for m in st["bins"]["output"]]
    for disc, img in images.items():
        data = img.read_bytes()
        assert any(o[: len(data)] == data for o in out), f"disc {disc} not in the output bin"


@pytest.mark.slow
def test_a_drive_that_is_not_ready_drops_out_and_the_other_finishes(cli, home: Path) -> None:
    images = setup_home(home, 3, drives=2)
    assert cli("robot", "status").code == 0
    arm(home / "robot", "notready 1")
    r = cli("robot", "burn", "--segments", "all", "--json")
    assert r.code == 0, r.err
    assert {b["drive"] for b in r.json()["burned"]} == {0}
    assert_shelved_and_identical(home, images, [0, 1, 2])


def test_unreadable_medium_is_rejected_at_verify(cli, home: Path) -> None:
    images = setup_home(home, 1, drives=1)
    assert cli("robot", "status").code == 0
    arm(home / "robot", "unreadable 1")
    r = cli("robot", "burn", "--segments", "0", "--json")
    assert r.code == 0, r.err
    assert [m["slot"] for m in r.json()["rejected_media"]] == [1]
    assert disc_rows(home)[0][1] == 2
    assert_shelved_and_identical(home, images, [0])


def test_bin_autoloader_recovers_a_disc_left_in_its_drive(cli, home: Path) -> None:
    """A killed run leaves a half-burned medium in the drive: the next run rejects it and goes on."""
    setup_home(home, 2, drives=1, blanks=4, extra='dialect = "generic"\n')
    assert cli("robot", "load", "1").code == 0  # stands for a burn cut short
    drive = home / "robot" / "drives" / "drive0.img"
    drive.write_bytes(b"x" * 40_000)
    r = cli("robot", "burn", "--segments", "all", "--json")
    assert r.code == 0, r.err
    assert sorted(b["disc"] for b in r.json()["burned"]) == [0, 1]
    assert sorted(media_places(home / "robot").values()) == ["bin input", "bin output", "bin output", "bin reject"]


@pytest.mark.slow
def test_burn_through_the_mtx_driver(cli, home: Path) -> None:
    """The same burn with the mtx driver on the simulator's mtx front end; tags name the discs."""
    images = setup_home(home, 2, drives=2, slots=10, blanks=6)
    assert cli("robot", "status").code == 0  # create the simulator's state, then drive it by mtx
    control.stop(home / "robot")
    with open(home / "odarchive.toml", "a") as f:
        f.write(
            f'[robot]\ndriver = "mtx"\ndevice = "{home / "robot"}"\n'
            f'mtx_command = "{sys.executable} -m robot_drivers.simulator.mtx_front"\n'
        )
    r = cli("robot", "burn", "--segments", "all", "--json")
    assert r.code == 0, r.err
    assert_shelved_and_identical(home, images, [0, 1])
    inv = cli("robot", "inventory", "--json").json()
    tagged = {s["disc"]: s["label"] for s in inv["slots"] if s["label"]}
    assert tagged == {0: "TESTARCHIVE_0000", 1: "TESTARCHIVE_0001"}
