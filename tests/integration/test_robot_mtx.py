"""The mtx driver against the simulator's mtx-compatible front end (real subprocesses)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from robot_drivers import errors
from robot_drivers.interfaces import DRIVE_EMPTY, DRIVE_LOADED, EMPTY, FULL
from robot_drivers.mtx_changer import MtxChanger
from robot_drivers.mtx_parse import parse_status
from robot_drivers.simulator.config import SimConfig
from robot_drivers.simulator.mechanism import Mechanism
from robot_drivers.simulator.mtx_front import status_text
from tests.lib.robot_sim import arm, media_places

FRONT = [sys.executable, "-m", "robot_drivers.simulator.mtx_front"]


@pytest.fixture
def mtx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    state = tmp_path / "robot"
    Mechanism(state, SimConfig(slots=12, drives=2, blanks=8, mail_slots=1, speed=1000.0))
    monkeypatch.setenv("ODARCHIVE_SIM_SPEED", "1000")
    return state, MtxChanger(str(state), FRONT, timeout_s=30)


def test_status_matches_state_and_moves(mtx) -> None:
    state, c = mtx
    inv = c.inventory()
    assert len(inv.slots) == 12 and len(inv.drives) == 2 and [m.slot for m in inv.mail] == [13]
    assert [s.state for s in inv.slots] == [FULL] * 8 + [EMPTY] * 4
    c.load(2, 1)
    inv = c.inventory()
    assert inv.drive(1).state == DRIVE_LOADED and inv.drive(1).loaded_from_slot == 2
    assert inv.slot(2).state == EMPTY
    assert c.unload(1) == 2
    c.transfer(3, 10)
    c.export_disc(10)
    assert c.inventory().mail[0].state == FULL
    c.import_disc(11)
    assert c.inventory().slot(11).state == FULL and media_places(state)["3"] == "slot 11"


def test_volume_tags_appear_after_a_burn_label(mtx) -> None:
    state, c = mtx
    mech = Mechanism(state, SimConfig())
    with mech.store.locked() as st:  # as if slot 1 held a burned disc
        st["media"][st["slots"][0]]["label"] = "ODA1a2b3c4d_0007"
        st["media"][st["slots"][0]]["blank"] = False
    c.load(1, 0)
    inv = c.inventory()
    assert inv.drive(0).label == "ODA1a2b3c4d_0007"
    c.unload(0)
    assert c.inventory().slot(1).label == "ODA1a2b3c4d_0007"
    text = status_text(mech.snapshot(), "/dev/sg3")
    assert ":VolumeTag=ODA1a2b3c4d_0007" + " " * 20 in text  # padded to 36 as mtx does
    assert parse_status(text).slot(1).label == "ODA1a2b3c4d_0007"


@pytest.mark.parametrize(
    ("call", "cls"),
    [
        (lambda c: c.load(10, 0), errors.EmptySlot),
        (lambda c: c.load(40, 0), errors.BadAddress),
        (lambda c: c.transfer(1, 2), errors.SlotFull),
        (lambda c: c.unload(1), errors.EmptySlot),
    ],
)
def test_refusals(mtx, call, cls) -> None:
    state, c = mtx
    before = media_places(state)
    with pytest.raises(cls) as e:
        call(c)
    assert "mtx" in e.value.message
    assert media_places(state) == before


@pytest.mark.parametrize(
    ("fault", "cls"),
    [("jam", errors.MechanismFault), ("notready 0", errors.DriveNotReady), ("miss 4", errors.EmptySlot)],
)
def test_faults_then_inventory_resets(mtx, fault, cls) -> None:
    state, c = mtx
    before = media_places(state)
    arm(state, fault)
    with pytest.raises(cls):
        c.load(4, 0)
    c.reset()  # mtx inventory
    assert media_places(state) == before
    c.load(4, 0)
    assert c.inventory().drive(0).loaded_from_slot == 4
    c.unload(0)
    assert c.inventory().drive(0).state == DRIVE_EMPTY


def test_missing_mtx_binary(tmp_path: Path) -> None:
    with pytest.raises(errors.CommunicationError) as e:
        MtxChanger("/dev/sg9", ["/nonexistent/mtx"]).inventory()
    assert "not installed" in e.value.message


def test_real_mtx_on_a_missing_device_is_a_communication_error() -> None:
    with pytest.raises(errors.CommunicationError):
        MtxChanger("/dev/odarchive-no-such-changer").inventory()
