"""The issue's "faults found, tried as a new user would", each tried again through the
archive service: a jam during a burn, a sensor miss on the first blank, and exporting a disc
that sits in a drive. (A jam cleared while mounted: tests/mount/test_mount_robot.py; a disc
exported then imported is found again: test_robot_cli.py; a dead mount in the status:
tests/service/test_status_cmd.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lib.robot_sim import arm, disc_states, media_places, setup_home
from tests.lib.trees import disc_copies

pytestmark = pytest.mark.usefixtures("simulator_stopped")


def test_a_second_burn_after_a_jam_says_the_disc_is_stuck_and_reset_shelves_it(cli, home: Path) -> None:
    setup_home(home, 2, drives=1)
    assert cli("robot", "status").code == 0
    arm(home / "robot", "jam 3")  # disc 0 load + unload, disc 1 load; its unload jams
    assert cli("robot", "burn", "--segments", "0-1").code == 6
    assert disc_states(home)[1] == ("verified", None)
    again = cli("robot", "burn", "--segments", "0-1")  # before any reset: not "burned 0 disc(s)" and exit 0
    assert again.code == 1 and "still in a drive" in again.err and "robot reset" in again.err
    inv = cli("robot", "inventory", "--json").json()
    assert [d["disc"] for d in inv["drives"]] == [1]  # the inventory knows the burned disc, not "blank"
    assert cli("robot", "reset").code == 0
    assert disc_states(home)[1][1] is not None  # shelved in its slot
    r = cli("robot", "burn", "--segments", "0-1", "--json")
    assert r.code == 0 and r.json()["skipped"] == [0, 1] and r.json()["unshelved"] == []


def test_a_sensor_miss_on_the_first_blank_takes_another_and_the_slot_loads_later(cli, home: Path) -> None:
    setup_home(home, 2, drives=1, slots=8, blanks=4)
    inv = cli("robot", "inventory", "--json").json()
    first_blank = min(s["slot"] for s in inv["slots"] if s["state"] == "blank")
    arm(home / "robot", f"miss {first_blank}")
    r = cli("robot", "burn", "--segments", "all", "--json")
    assert r.code == 0, r.err  # the run is not aborted
    assert sorted(b["disc"] for b in r.json()["burned"]) == [0, 1] and r.json()["rejected_media"] == []
    assert cli("robot", "load", str(first_blank), "--drive", "0").code == 0  # one miss, not every later load
    assert cli("robot", "unload", "--drive", "0").code == 0


def test_export_of_a_disc_in_a_drive_puts_it_back_first(cli, home: Path) -> None:
    setup_home(home, 1, drives=1)
    assert cli("robot", "burn", "--segments", "all").code == 0
    slot = disc_states(home)[0][1]
    assert cli("robot", "load", str(slot), "--drive", "0").code == 0
    r = cli("robot", "export", str(slot), "--location", "shelf 2", "--json")
    assert r.code == 0, r.err
    assert "removed by hand" not in r.err
    assert "mail 1" in media_places(home / "robot").values()
    disc = disc_copies(home, 0)[0]
    assert (disc.slot, disc.location) == (None, "shelf 2")
