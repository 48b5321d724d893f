"""Small robot pieces: burn progress lines, segment specs, labels, protocol codes, the mechanism."""

from __future__ import annotations

from pathlib import Path

import pytest

from odarchive.app.robot_config import disc_from_label
from robot_drivers import errors
from robot_drivers import slot_protocol as P
from robot_drivers.drives.burn import MB, parse_progress
from robot_drivers.simulator.config import SimConfig
from robot_drivers.simulator.faults import apply_fault
from robot_drivers.simulator.mechanism import Mechanism
from robot_drivers.volume_label import label_from_pvd


def test_parse_progress_lines() -> None:
    assert parse_progress("xorriso : UPDATE :    3 of   39 MB written (fifo 99%) [buf  50%]") == (3 * MB, 39 * MB)
    assert parse_progress("Track 01:  120 of 23841 MB written (fifo 100%) [buf  98%]   4.0x.") == (120 * MB, 23841 * MB)
    assert parse_progress("Beginning to write data track.") is None


def test_disc_from_label() -> None:
    assert disc_from_label("ODARCHIVE_0007") == 7
    assert disc_from_label("MY_PHOTOS_12345") == 12345
    assert disc_from_label("ODARCHIVE_0007", {"ODARCHIVE"}) == 7
    assert disc_from_label("OTHER_0007", {"ODARCHIVE"}) is None  # another archive's disc
    assert disc_from_label("CDROM") is None and disc_from_label(None) is None


def test_label_from_pvd() -> None:
    pvd = bytearray(2048)
    pvd[0], pvd[1:6] = 1, b"CD001"
    pvd[40:72] = b"ODA1a2b3c4d_0001".ljust(32)
    assert label_from_pvd(bytes(pvd)) == "ODA1a2b3c4d_0001"
    assert label_from_pvd(bytes(2048)) is None


def test_protocol_codes_round_trip() -> None:
    for code, (cls, _) in P.ERROR_CODES.items():
        err = P.error_for(code, "PL 001 0")
        assert isinstance(err, cls) and code in err.message and "PL 001 0" in err.message
    assert P.describe("PL 005 0") == "load slot 5 into drive 0"
    assert P.describe("PU 1 000") == "unload drive 1 into slot of origin"
    assert "load slot 21 into drive 0" in P.error_for("E10", "PL 021 0").message
    assert P.code_for(errors.Jam("x")) == "E30"
    assert P.code_for(errors.EmptySlot("x")) == "E10"


def test_mechanism_never_loses_a_disc(tmp_path: Path) -> None:
    m = Mechanism(tmp_path, SimConfig(slots=5, drives=2, blanks=3, mail_slots=1))

    def count() -> int:
        st = m.snapshot()
        return sum(x is not None for x in st["slots"] + st["mail"]) + sum(d["medium"] is not None for d in st["drives"])

    m.load(1, 0)
    with pytest.raises(errors.SlotFull):
        m.load(2, 0)
    with pytest.raises(errors.EmptySlot):
        m.load(4, 1)
    with m.store.locked() as st:
        apply_fault(st, "jam 1")
    m.load(2, 1)  # one more good motion
    with pytest.raises(errors.Jam):
        m.unload(1, None)
    with pytest.raises(errors.Jam):  # until reset
        m.transfer(3, 5)
    assert count() == 3
    m.reset()
    assert m.unload(1, None)[0] == 2 and m.unload(0, 4)[0] == 4
    m.export_disc(4, 1)
    m.import_disc(1, 5)
    assert count() == 3 and m.snapshot()["slots"][4] is not None
    with pytest.raises(errors.BadAddress):
        m.load(9, 0)
    with m.store.locked() as st, pytest.raises(errors.BadAddress):
        apply_fault(st, "wobble")


def test_unload_labels_a_burned_medium(tmp_path: Path) -> None:
    m = Mechanism(tmp_path, SimConfig(slots=3, drives=1, blanks=1))
    m.load(1, 0)
    pvd = bytearray(2048)
    pvd[0], pvd[1:6], pvd[40:72] = 1, b"CD001", b"ODA00000000_0000".ljust(32)
    m.store.drive_file(0).write_bytes(bytes(32768) + bytes(pvd))  # "burned" by xorriso
    m.unload(0, None)
    medium = m.snapshot()["media"][m.snapshot()["slots"][0]]
    assert medium == {"blank": False, "label": "ODA00000000_0000", "unreadable": False}
    assert not m.store.drive_file(0).exists()
