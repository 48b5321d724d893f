"""OpticalDrive on xorriso `stdio:` pseudo-drives: the real xorriso burns, then read-back."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from robot_drivers import errors
from robot_drivers.drives.optical import OpticalDrive
from tests.lib.robot_sim import make_image


def sidecar(drive_file: Path, **fields: object) -> None:
    side = {"present": True, "ready_at": 0, "unreadable": False, "fail_at_percent": None, "write_bytes_per_s": None}
    side.update(fields)
    Path(str(drive_file) + ".json").write_text(json.dumps(side))


@pytest.fixture
def image(tmp_path: Path) -> Path:
    return make_image(tmp_path / "disc.iso", "ODA1a2b3c4d_0003", 600_000)


@pytest.fixture
def blank(tmp_path: Path) -> Path:
    f = tmp_path / "drive0.img"
    f.write_bytes(b"")
    sidecar(f)
    return f


def test_burn_then_read_back_identical(image: Path, blank: Path) -> None:
    drive = OpticalDrive.for_target(f"stdio:{blank}")
    drive.wait_for_media(1.0)
    assert drive.medium_size() == 0 and drive.volume_label() is None
    seen: list[tuple[int, int]] = []
    drive.burn(image, lambda done, total: seen.append((done, total)))
    size = image.stat().st_size
    assert seen[-1] == (size, size) and seen[0][0] == 0
    assert drive.medium_size() >= size  # xorriso pads the track
    assert hashlib.sha256(drive.read(0, size)).digest() == hashlib.sha256(image.read_bytes()).digest()
    assert drive.volume_label() == "ODA1a2b3c4d_0003"
    assert drive.read(size - 10, 10) == image.read_bytes()[-10:]


def test_burn_fails_at_the_given_percentage(image: Path, blank: Path) -> None:
    sidecar(blank, fail_at_percent=50)
    drive = OpticalDrive.for_target(f"stdio:{blank}")
    with pytest.raises(errors.BurnFailed) as e:
        drive.burn(image)
    assert "failed" in e.value.message and e.value.hint
    assert blank.stat().st_size <= image.stat().st_size // 2 + 1


def test_throttled_burn_takes_the_simulated_time(image: Path, blank: Path) -> None:
    size = image.stat().st_size
    sidecar(blank, write_bytes_per_s=size / 0.4)
    drive = OpticalDrive.for_target(f"stdio:{blank}")
    seen: list[int] = []
    t0 = time.monotonic()
    drive.burn(image, lambda done, total: seen.append(done))
    assert time.monotonic() - t0 >= 0.35
    assert seen == sorted(seen) and seen[-1] == size
    assert drive.read(0, size) == image.read_bytes()


def test_unreadable_medium(image: Path, blank: Path) -> None:
    blank.write_bytes(image.read_bytes())
    sidecar(blank, unreadable=True)
    with pytest.raises(errors.UnreadableDisc):
        OpticalDrive.for_target(f"stdio:{blank}").read(0, 2048)


def test_short_medium_is_unreadable_beyond_its_end(image: Path, blank: Path) -> None:
    blank.write_bytes(image.read_bytes()[:40_000])
    with pytest.raises(errors.UnreadableDisc) as e:
        OpticalDrive.for_target(f"stdio:{blank}").read(30_000, 20_000)
    assert "40000" in e.value.message


def test_wait_for_media_spin_up_and_timeout(blank: Path) -> None:
    sidecar(blank, ready_at=time.time() + 0.2)
    drive = OpticalDrive.for_target(f"stdio:{blank}")
    t0 = time.monotonic()
    drive.wait_for_media(2.0)
    assert 0.15 <= time.monotonic() - t0 < 1.5
    sidecar(blank, present=False)
    with pytest.raises(errors.DriveNotReady):
        drive.wait_for_media(0.1)
    with pytest.raises(errors.DriveNotReady):
        drive.medium_size()


def test_missing_xorriso(image: Path, blank: Path) -> None:
    with pytest.raises(errors.BurnFailed) as e:
        OpticalDrive.for_target(f"stdio:{blank}", xorriso="/nonexistent/xorriso").burn(image)
    assert "not installed" in e.value.message
