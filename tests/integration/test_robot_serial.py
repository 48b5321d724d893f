"""The serial drivers against the simulator over a real pseudo-terminal, both dialects.

Every injected fault must give a clear error (or be recovered from), and after a reset the
inventory must be consistent with no disc lost.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from robot_drivers import errors
from robot_drivers.interfaces import BLANK, DRIVE_EMPTY, DRIVE_LOADED, DRIVE_NOT_READY, DRIVE_UNKNOWN, EMPTY
from robot_drivers.serial_generic import BIN_REJECT, GenericChanger
from robot_drivers.serial_link import SerialLink
from robot_drivers.serial_slot import SlotChanger
from tests.lib.robot_sim import arm, media_places, simulator


@pytest.fixture
def slot_sim(tmp_path: Path):
    state = tmp_path / "robot"
    with simulator(state, slots=30, drives=2, blanks=20) as info:
        changer = SlotChanger(SerialLink(info["tty"], reconnect_s=5.0), reply_timeout_s=0.3, motion_timeout_s=10.0)
        yield state, changer
        changer.close()


@pytest.fixture
def generic_sim(tmp_path: Path):
    state = tmp_path / "robot"
    with simulator(state, dialect="generic", drives=1, blanks=6) as info:
        changer = GenericChanger(SerialLink(info["tty"], reconnect_s=5.0), reply_timeout_s=0.3, motion_timeout_s=1.0)
        yield state, changer
        changer.close()


def consistent(state: Path, changer: SlotChanger, before: dict[str, str]) -> None:
    """The driver's inventory matches the simulator's state and every medium is still there."""
    places = media_places(state)
    assert set(places) == set(before), "a disc was lost or appeared"
    inv = changer.inventory()
    occupied = {f"slot {s.slot}" for s in inv.slots if s.state != EMPTY}
    occupied |= {f"drive {d.drive}" for d in inv.drives if d.state == DRIVE_LOADED}
    assert occupied == set(places.values())


def test_slot_dialect_moves_and_inventory(slot_sim) -> None:
    _state, c = slot_sim
    assert c.version().startswith("ODASIM")
    assert c.geometry() == (30, 2, 1)
    inv = c.inventory()
    assert [s.state for s in inv.slots[:20]] == [BLANK] * 20 and inv.slot(21).state == EMPTY
    c.load(3, 1)
    d = c.inventory().drive(1)
    assert (d.state, d.loaded_from_slot, d.medium) == (DRIVE_LOADED, 3, BLANK)
    assert c.unload(1) == 3
    c.transfer(4, 25)
    c.export_disc(25)
    assert c.inventory().mail[0].state == BLANK
    c.import_disc(26)
    assert c.inventory().slot(26).state == BLANK and c.inventory().slot(4).state == EMPTY


@pytest.mark.parametrize(
    ("call", "cls", "words"),
    [
        (lambda c: c.load(21, 0), errors.EmptySlot, "source is empty"),
        (lambda c: c.load(99, 0), errors.BadAddress, "bad parameter"),
        (lambda c: c.unload(0, 5), errors.EmptySlot, "drive is empty"),
        (lambda c: c.transfer(1, 2), errors.SlotFull, "occupied"),
        (lambda c: c.import_disc(5), errors.EmptySlot, "mail slot is empty"),
    ],
)
def test_slot_dialect_refusals(slot_sim, call, cls, words) -> None:
    state, c = slot_sim
    before = media_places(state)
    with pytest.raises(cls) as e:
        call(c)
    assert words in e.value.message and e.value.hint
    consistent(state, c, before)


@pytest.mark.parametrize(
    ("fault", "action", "cls"),
    [
        ("jam", lambda c: c.load(1, 0), errors.Jam),
        ("miss 2", lambda c: c.load(2, 0), errors.EmptySlot),
        ("notready 1", lambda c: c.load(2, 1), errors.DriveNotReady),
        ("garble 20", lambda c: c.load(2, 0), errors.GarbledReply),
        ("drop 20", lambda c: c.load(2, 0), errors.CommunicationTimeout),
    ],
)
def test_slot_faults_give_clear_errors_and_reset_restores(slot_sim, fault, action, cls) -> None:
    state, c = slot_sim
    c.load(5, 0)  # a disc in a drive while things go wrong
    before = media_places(state)
    arm(state, fault)
    with pytest.raises(cls) as e:
        action(c)
    assert e.value.message and e.value.hint and e.value.exit_code == 6
    if fault == "jam":  # a jam lasts until reset
        with pytest.raises(errors.Jam):
            c.unload(0)
    if fault.startswith("notready"):
        assert c.drive_info(1).state == DRIVE_NOT_READY
    arm(state, "clear")
    c.link.flush_input()
    c.reset()
    consistent(state, c, before)
    assert c.unload(0) == 5  # and the changer works again
    c.load(2, 1)
    consistent(state, c, before)


@pytest.mark.parametrize("fault", ["garble 2", "drop 1", "drop 2", "unplug 0.3"])
def test_slot_recovers_from_line_trouble(slot_sim, fault) -> None:
    """A few lost or garbled replies, or the adapter going away briefly: the motion still happens once."""
    state, c = slot_sim
    before = media_places(state)
    arm(state, fault)
    c.load(7, 0)
    assert c.drive_info(0).loaded_from_slot == 7
    arm(state, fault)
    assert c.unload(0) == 7
    consistent(state, c, before)


def test_adapter_gone_for_good_is_a_communication_error(slot_sim) -> None:
    state, c = slot_sim
    c.link.reconnect_s = 0.3
    arm(state, "unplug 1.2")
    t0 = time.monotonic()
    with pytest.raises(errors.CommunicationError) as e:
        c.load(1, 0)
    assert time.monotonic() - t0 < 1.1
    assert "tty" in e.value.message and "device" in e.value.hint
    c.link.reconnect_s = 5.0  # it comes back within that: the same driver waits for it and carries on
    c.reset()
    assert c.geometry() == (30, 2, 1)


def test_generic_dialect_bins(generic_sim) -> None:
    state, c = generic_sim
    assert c.version().startswith("ODASIM-GENERIC")
    c.load()
    assert c.inventory().drive(0).state == DRIVE_LOADED
    with pytest.raises(errors.SlotFull):
        c.load()
    assert c.unload() == 2
    c.load()
    assert c.unload(slot=BIN_REJECT) == BIN_REJECT
    places = media_places(state)
    assert sorted(places.values()).count("bin output") == 1 and list(places.values()).count("bin reject") == 1
    with pytest.raises(errors.BadAddress):
        c.transfer(1, 2)
    assert c.inventory().drive(0).state == DRIVE_EMPTY


@pytest.mark.parametrize(
    ("fault", "cls"),
    [("jam", errors.Jam), ("garble 20", errors.CommunicationError), ("drop 20", errors.CommunicationError)],
)
def test_generic_faults_and_reset(generic_sim, fault, cls) -> None:
    state, c = generic_sim
    before = set(media_places(state))
    arm(state, fault)
    with pytest.raises(cls) as e:
        c.load()
    assert e.value.message and e.value.hint
    arm(state, "clear")
    c.link.flush_input()
    c.reset()
    assert set(media_places(state)) == before
    if c.inventory().drive(0).state == DRIVE_UNKNOWN:  # the lost reply may have been for a done load
        assert fault != "jam"
        try:
            c.unload()
        except errors.EmptySlot:
            pass
    assert c.inventory().drive(0).state == DRIVE_EMPTY
    c.load()
    c.unload()
    assert set(media_places(state)) == before


@pytest.mark.parametrize("fault", ["garble 1", "drop 1"])
def test_generic_recovers_from_one_bad_reply(generic_sim, fault) -> None:
    state, c = generic_sim
    arm(state, fault)
    c.load()
    assert "drive 0" in media_places(state).values()
    c.unload()


def test_generic_empty_input_bin(tmp_path: Path) -> None:
    state = tmp_path / "robot"
    with simulator(state, dialect="generic", drives=1, blanks=1) as info:
        c = GenericChanger(SerialLink(info["tty"]), reply_timeout_s=0.3, motion_timeout_s=10.0)
        c.load()
        c.unload()
        with pytest.raises(errors.EmptySlot) as e:
            c.load()
        assert "empty" in e.value.message
        c.close()


def test_one_process_at_a_time(slot_sim) -> None:
    state, c = slot_sim
    c.version()  # holds the port
    other = SlotChanger(SerialLink(str(state / "tty"), reconnect_s=0.2), reply_timeout_s=0.3)
    with pytest.raises(errors.CommunicationError) as e:
        other.version()
    assert "in use by another process" in e.value.message and "one process" in e.value.hint


def test_lost_completion_is_found_by_busy_polling(tmp_path: Path) -> None:
    """Slow motions (speed 20: an unload takes 0.3 s): a lost completion line is found with `?B`/`?E`."""
    state = tmp_path / "robot"
    with simulator(state, slots=10, drives=1, blanks=3, speed=20.0) as info:
        c = SlotChanger(SerialLink(info["tty"]), reply_timeout_s=0.5, motion_timeout_s=5.0)
        c.load(1, 0)
        c._send("PU 0 001")
        assert c._line(1.0) == "A"
        arm(state, "drop 1")  # the completion `C`, due in 0.3 s, is lost
        assert c._completion("PU 0 001", time.monotonic() + 5.0) is False  # idle, completion lost
        assert c._outcome("PU 0 001", time.monotonic() + 5.0) is True  # ?E: it was done
        assert media_places(state)["1"] == "slot 1"
        c.reply_timeout_s = 0.1  # polls `?B` (answered `B`) several times during a 0.4 s load
        t0 = time.monotonic()
        c.load(2, 0)
        assert 0.35 < time.monotonic() - t0 < 2.0
        assert c.drive_info(0).loaded_from_slot == 2
        c.close()
