"""The burn job with an in-memory changer and drives: retries, rejects, limits, recovery, manual."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from robot_drivers import errors
from robot_drivers.burn_job import BurnJob, DiscImage
from robot_drivers.interfaces import BLANK, DRIVE_EMPTY, DRIVE_LOADED, EMPTY, RECORDED, DriveInfo, Inventory, SlotInfo
from robot_drivers.manual import ManualChanger


class Medium:
    def __init__(self, data: bytes = b"", bad: bool = False) -> None:
        self.data, self.bad = data, bad


class MemDrive:
    def __init__(self, n: int) -> None:
        self.name, self.medium = f"mem{n}", None

    def wait_for_media(self, timeout_s: float) -> None:
        if self.medium is None:
            raise errors.DriveNotReady("empty")

    def medium_size(self) -> int:
        return len(self.medium.data)

    def volume_label(self) -> str | None:
        return self.medium.data[:16].decode() if self.medium.data else None

    def read(self, offset: int, length: int) -> bytes:
        return self.medium.data[offset : offset + length]

    def burn(self, image_path: Path, progress_cb=None) -> None:
        if self.medium.bad:
            self.medium.data = b"half"
            raise errors.BurnFailed("write error at 50 %")
        self.medium.data = image_path.read_bytes()

    def eject(self) -> None:
        pass


class MemChanger:
    def __init__(self, slots: list[Medium | None], drives: list[MemDrive]) -> None:
        self.slots, self.drives, self.source = slots, drives, [None] * len(drives)
        self.moves = 0

    def inventory(self) -> Inventory:
        state = lambda m: EMPTY if m is None else BLANK if not m.data else RECORDED  # noqa: E731
        return Inventory(
            slots=tuple(SlotInfo(i + 1, state(m)) for i, m in enumerate(self.slots)),
            drives=tuple(
                DriveInfo(i, DRIVE_LOADED if d.medium else DRIVE_EMPTY, self.source[i])
                for i, d in enumerate(self.drives)
            ),
        )

    def load(self, slot: int, drive: int = 0) -> None:
        if self.slots[slot - 1] is None:
            raise errors.EmptySlot(f"slot {slot} empty")
        self.drives[drive].medium, self.slots[slot - 1] = self.slots[slot - 1], None
        self.source[drive] = slot
        self.moves += 1

    def unload(self, drive: int = 0, slot: int | None = None) -> int:
        slot = slot or self.source[drive]
        self.slots[slot - 1], self.drives[drive].medium = self.drives[drive].medium, None
        self.moves += 1
        return slot

    def close(self) -> None:
        pass


class Recorder:
    def __init__(self, images: dict[int, DiscImage]) -> None:
        self.images, self.log = images, []

    def image(self, disc: int) -> DiscImage:
        return self.images[disc]

    def verified(self, disc, label, drive, slot, burn_s, sha256) -> None:
        self.log.append(("verified", disc, slot))

    def shelved(self, disc, slot) -> None:
        self.log.append(("shelved", disc, slot))

    def rejected(self, disc, slot, reason) -> None:
        self.log.append(("rejected", disc, slot))

    def is_done(self, label) -> bool:
        return False

    def recovered(self, label, slot, blank) -> None:
        self.log.append(("recovered", label, slot, blank))


class Quiet:
    def start(self, *a, **k): ...
    def advance(self, *a, **k): ...
    def event(self, *a, **k): ...
    def finish(self): ...


@pytest.fixture
def images(tmp_path: Path) -> dict[int, DiscImage]:
    out = {}
    for d in range(4):
        data = f"DISC_{d:04d}______".encode()[:16] + bytes([d]) * 5000
        p = tmp_path / f"{d}.iso"
        p.write_bytes(data)
        out[d] = DiscImage(d, p, f"DISC_{d:04d}", len(data), hashlib.sha256(data).digest())
    return out


def job(changer, drives, images, **kw) -> tuple[BurnJob, Recorder]:
    rec = Recorder(images)
    return BurnJob(changer, dict(enumerate(drives)), rec, Quiet(), **kw), rec


def test_bad_blank_is_rejected_and_the_disc_retried(images) -> None:
    drives = [MemDrive(0)]
    changer = MemChanger([Medium(bad=True), Medium(), Medium(), None], drives)
    j, rec = job(changer, drives, images)
    done = j.run([0, 1])
    assert [(o.disc, o.slot) for o in done] == [(0, 2), (1, 3)]
    assert rec.log[0] == ("rejected", 0, 1)
    assert changer.slots[1].data == images[0].path.read_bytes()


def test_recorded_medium_is_never_taken_for_a_blank(images) -> None:
    drives = [MemDrive(0)]
    changer = MemChanger([Medium(b"OLDDISC_00000000"), Medium()], drives)
    j, _ = job(changer, drives, images)
    assert [o.slot for o in j.run([0])] == [2]


def test_excluded_and_full_slot_that_turns_out_not_blank(images) -> None:
    drives = [MemDrive(0)]

    class NoSensor(MemChanger):  # reports FULL-like states as blank: the drive must tell
        def inventory(self) -> Inventory:
            inv = super().inventory()
            return Inventory(
                tuple(SlotInfo(s.slot, BLANK if s.state != EMPTY else EMPTY) for s in inv.slots), inv.drives
            )

    changer = NoSensor([Medium(b"SOMEONE_ELSES_DI"), Medium(), Medium()], drives)
    j, rec = job(changer, drives, images, excluded_slots={2})
    assert [o.slot for o in j.run([0])] == [3]
    assert ("rejected", None, 1) in rec.log  # not blank: remembered, put back untouched
    assert changer.slots[0].data == b"SOMEONE_ELSES_DI"


def test_gives_up_after_max_attempts_and_when_blanks_run_out(images) -> None:
    drives = [MemDrive(0)]
    changer = MemChanger([Medium(bad=True), Medium(bad=True), Medium(), None], drives)
    j, _ = job(changer, drives, images, max_attempts=2)
    with pytest.raises(errors.BurnFailed) as e:
        j.run([0])
    assert "disc 0" in e.value.message
    changer = MemChanger([Medium()], drives)
    j, _ = job(changer, drives, images)
    with pytest.raises(errors.NoBlankMedia):
        j.run([0, 1])
    assert changer.slots[0].data == images[0].path.read_bytes()  # the first is done and shelved


def test_two_drives_share_the_work_and_recover_leftovers(images) -> None:
    drives = [MemDrive(0), MemDrive(1)]
    changer = MemChanger([Medium() for _ in range(6)], drives)
    changer.load(6, 1)  # left in drive 1 by a killed run
    j, rec = job(changer, drives, images)
    done = j.run([0, 1, 2, 3])
    assert sorted(o.disc for o in done) == [0, 1, 2, 3]
    assert rec.log[0] == ("recovered", None, 6, True)
    assert all(d.medium is None for d in drives)


def test_manual_driver_burns_one_disc_after_another(images) -> None:
    drive = MemDrive(0)
    asked: list[str] = []

    def person(text: str | None) -> None:
        if text is None:
            return
        asked.append(text)
        if text.startswith("insert a blank"):
            drive.medium = Medium()

    changer = ManualChanger(drive, person, lambda n: None, media_timeout_s=0.01)
    j, _rec = job(changer, [drive], images)
    done = j.run([0, 1])
    assert [o.disc for o in done] == [0, 1] and all(o.slot is None for o in done)
    assert asked == ["insert a blank disc into mem0", "take the burned disc out of mem0"] * 2


def test_progress_events_per_drive(images) -> None:
    events: list[tuple[str, dict]] = []

    progress: list[tuple[str, int]] = []

    class Events(Quiet):
        def start(self, phase, total_items=None, total_bytes=None):
            progress.append(("start", total_items))

        def advance(self, items=0, nbytes=0):
            progress.append(("bytes", nbytes) if nbytes else ("items", items))

        def event(self, kind, **fields):
            events.append((kind, fields))

    class SlowDrive(MemDrive):
        def burn(self, image_path: Path, progress_cb=None) -> None:
            import time

            for i in range(3):
                time.sleep(0.03)
                progress_cb(i, 2)
            super().burn(image_path)

    drives = [SlowDrive(0)]
    j = BurnJob(MemChanger([Medium()], drives), {0: drives[0]}, Recorder(images), Events(), progress_interval_s=0.02)
    j.run([0], total_bytes=2)
    kinds = [k for k, _ in events]
    assert kinds[0] == "burning" and kinds[-1] == "verified" and "drive" in kinds
    assert progress == [("start", 1), ("bytes", 1), ("bytes", 1), ("items", 1)]
    assert all(f["drive"] == 0 and f["phase"] in ("burn", "verify") for k, f in events if k == "drive")
