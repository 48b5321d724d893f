"""The manual driver with an injected prompt and a fake drive (no person, no hardware)."""

from __future__ import annotations

from pathlib import Path

import pytest

from robot_drivers import errors
from robot_drivers.interfaces import DRIVE_EMPTY, DRIVE_LOADED
from robot_drivers.manual import BLANK_SLOT, ManualChanger


class FakeDrive:
    """A drive whose medium the test 'inserts' when the prompt asks."""

    name = "/dev/sr0"

    def __init__(self) -> None:
        self.label: str | None = None
        self.size = 0
        self.present = False
        self.ejected = 0

    def insert(self, label: str | None, size: int) -> None:
        self.label, self.size, self.present = label, size, True

    def wait_for_media(self, timeout_s: float) -> None:
        if not self.present:
            raise errors.DriveNotReady(f"no medium in {self.name} after {timeout_s} s")

    def medium_size(self) -> int:
        return self.size

    def volume_label(self) -> str | None:
        return self.label

    def read(self, offset: int, length: int) -> bytes:
        return b"\0" * length

    def burn(self, image_path: Path, progress_cb=None) -> None:
        self.size = image_path.stat().st_size

    def eject(self) -> None:
        self.ejected += 1
        self.present = False


LABELS = {7: "ODA1a2b3c4d_0007", 8: "ODA1a2b3c4d_0008"}


def make(person):
    drive = FakeDrive()
    prompts: list[str] = []

    def prompt(text: str | None) -> None:
        if text is None:
            prompts.append("(done)")
            return
        prompts.append(text)
        person(drive, text)

    return ManualChanger(drive, prompt, LABELS.get, media_timeout_s=0.01), drive, prompts


def test_right_disc_is_accepted_and_unload_asks_to_take_it() -> None:
    changer, drive, prompts = make(lambda d, t: d.insert("ODA1a2b3c4d_0007", 10_000) if "insert" in t else None)
    changer.load(7)
    assert prompts == ["insert disc 7 (label ODA1a2b3c4d_0007) into /dev/sr0", "(done)"]
    assert changer.inventory().drive(0).state == DRIVE_LOADED
    assert changer.unload() == 7
    assert drive.ejected == 1 and prompts[-1] == "take disc 7 out of /dev/sr0"
    assert changer.inventory().drive(0).state == DRIVE_EMPTY


def test_wrong_disc_is_ejected_and_reported() -> None:
    changer, drive, _ = make(lambda d, t: d.insert("ODA1a2b3c4d_0008", 10_000) if "insert" in t else None)
    with pytest.raises(errors.WrongDisc) as e:
        changer.load(7)
    assert "ODA1a2b3c4d_0008" in e.value.message and "ODA1a2b3c4d_0007" in e.value.hint
    assert drive.ejected == 1 and changer.loaded_slot is None


def test_nobody_inserts_a_disc() -> None:
    changer, _, prompts = make(lambda d, t: None)
    with pytest.raises(errors.DriveNotReady):
        changer.load(8)
    assert "insert disc 8" in prompts[0]


def test_blank_requested_but_recorded_disc_inserted() -> None:
    changer, _drive, prompts = make(lambda d, t: d.insert("SOMETHING", 5000) if "insert" in t else None)
    with pytest.raises(errors.WrongDisc) as e:
        changer.load(BLANK_SLOT)
    assert prompts[0] == "insert a blank disc into /dev/sr0" and "not blank" in e.value.message
    changer2, _drive2, _ = make(lambda d, t: d.insert(None, 0) if "insert" in t else None)
    changer2.load(BLANK_SLOT)
    assert changer2.unload() == BLANK_SLOT


def test_second_load_and_moves_are_refused() -> None:
    changer, _, _ = make(lambda d, t: d.insert("ODA1a2b3c4d_0007", 10) if "insert" in t else None)
    changer.load(7)
    with pytest.raises(errors.SlotFull):
        changer.load(8)
    with pytest.raises(errors.BadAddress):
        changer.transfer(1, 2)
    with pytest.raises(errors.BadAddress):
        changer.load(7, drive=1)
