"""mtx status parsing and error classification on recorded output shapes (tests/data/mtx)."""

from __future__ import annotations

from pathlib import Path

import pytest

from robot_drivers import errors
from robot_drivers.interfaces import DRIVE_EMPTY, DRIVE_LOADED, EMPTY, FULL, SLOT_KIND_MAIL
from robot_drivers.mtx_parse import classify_failure, parse_status

DATA = Path(__file__).parent.parent / "data" / "mtx"


def read(name: str) -> str:
    return (DATA / name).read_text()


def test_barcodes_two_drives() -> None:
    inv = parse_status(read("barcodes_two_drives.txt"))
    assert [s.slot for s in inv.slots] == list(range(1, 10))
    assert inv.drive(0).state == DRIVE_LOADED and inv.drive(0).loaded_from_slot == 3
    assert inv.drive(0).label == "ODA1a2b3c4d_0002"  # padding stripped
    assert inv.drive(1).state == DRIVE_EMPTY and inv.drive(1).label is None
    assert inv.slot(1).label == "ODA1a2b3c4d_0000" and inv.slot(1).state == FULL
    assert inv.slot(3).state == EMPTY
    assert [(m.slot, m.state, m.kind) for m in inv.mail] == [(10, EMPTY, SLOT_KIND_MAIL)]


def test_no_barcodes() -> None:
    inv = parse_status(read("no_barcodes.txt"))
    assert [(s.slot, s.state, s.label) for s in inv.slots] == [
        (1, FULL, None),
        (2, EMPTY, None),
        (3, FULL, None),
        (4, FULL, None),
        (5, EMPTY, None),
    ]
    assert inv.drive(0).loaded_from_slot == 2 and inv.mail == ()


def test_import_export_first_and_unknown_source() -> None:
    inv = parse_status(read("ie_first_unknown_source.txt"))
    assert [m.slot for m in inv.mail] == [1, 2]
    assert inv.mail[0].state == FULL and inv.mail[0].label == "000009L4"
    assert [s.slot for s in inv.slots] == [3, 4, 5, 6, 7]
    assert inv.slot(5).label == "000002L4"  # the alternate tag is not taken for the primary
    d = inv.drive(0)
    assert d.state == DRIVE_LOADED and d.loaded_from_slot is None and d.label == "000123L4"


def test_four_drives_short_tags() -> None:
    inv = parse_status(read("four_drives_short_tags.txt"))
    assert [d.state for d in inv.drives] == [DRIVE_EMPTY, DRIVE_LOADED, DRIVE_EMPTY, DRIVE_LOADED]
    assert inv.drive(3).label == "DVD0004" and inv.drive(1).label is None
    assert inv.mail[0].label == "DVD0099"


def test_not_mtx_output_is_garbled_reply() -> None:
    with pytest.raises(errors.GarbledReply):
        parse_status("mtx: command not found\n")


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("error_hardware.txt", errors.MechanismFault),
        ("error_source_empty.txt", errors.EmptySlot),
        ("error_unload_full.txt", errors.SlotFull),
        ("error_no_device.txt", errors.CommunicationError),
    ],
)
def test_classify_failure(name: str, cls: type[errors.RobotError]) -> None:
    err = classify_failure(read(name), "mtx load 5 0")
    assert type(err) is cls
    assert "mtx load 5 0" in err.message and err.hint and err.exit_code == 6


def test_classify_not_ready_and_bad_address() -> None:
    assert isinstance(
        classify_failure(
            "mtx: Request Sense: Sense Key=Not Ready\nMOVE MEDIUM from Element Address 1 to 2 Failed\n", "x"
        ),
        errors.DriveNotReady,
    )
    assert isinstance(
        classify_failure("mtx: Invalid <storage-element-number> argument '99' to 'load' command\n", "x"),
        errors.BadAddress,
    )
