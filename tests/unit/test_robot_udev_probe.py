"""UdevProbe's logic with a stand-in for pyudev (no optical drive here) and ioctls on a plain file."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import pyudev

from robot_drivers import errors
from robot_drivers.drives.probes import CDS_DISC_OK, UdevProbe


class FakeMonitor:
    def __init__(self, events: list) -> None:
        self.events = events

    def filter_by(self, subsystem: str) -> None:
        assert subsystem == "block"

    def start(self) -> None:
        pass

    def poll(self, timeout: float):
        return self.events.pop(0) if self.events else None


def device(**props: str) -> SimpleNamespace:
    return SimpleNamespace(properties=props, device_node="/dev/sr0")


@pytest.fixture
def fake_udev(monkeypatch: pytest.MonkeyPatch):
    state = {"device": device(ID_CDROM_MEDIA="0"), "events": [], "status": [1]}
    monkeypatch.setattr(pyudev.Devices, "from_device_file", lambda ctx, path: state["device"])
    monkeypatch.setattr(pyudev.Monitor, "from_netlink", lambda ctx: FakeMonitor(state["events"]))
    probe = UdevProbe(context_factory=lambda: object(), poll_s=0.01)
    monkeypatch.setattr(probe, "_drive_status", lambda path: state["status"][0])
    return probe, state


def test_medium_already_there(fake_udev) -> None:
    probe, state = fake_udev
    state["device"] = device(ID_CDROM_MEDIA="1")
    state["status"][0] = CDS_DISC_OK
    probe.wait_for_media("/dev/sr0", 1.0)


def test_media_change_event_wakes_the_wait(fake_udev) -> None:
    probe, state = fake_udev
    event = device(DISK_MEDIA_CHANGE="1")

    def status(path: str) -> int:  # the drive reports the disc once the event came
        return CDS_DISC_OK if not state["events"] else 1

    probe._drive_status = status  # type: ignore[method-assign]
    state["events"].extend([device(ID_CDROM_MEDIA="0"), event])
    probe.wait_for_media("/dev/sr0", 2.0)
    assert state["events"] == []


def test_no_medium_times_out(fake_udev) -> None:
    probe, _ = fake_udev
    with pytest.raises(errors.DriveNotReady) as e:
        probe.wait_for_media("/dev/sr0", 0.05)
    assert "/dev/sr0" in e.value.message


def test_blank_medium_size_is_zero(fake_udev) -> None:
    probe, state = fake_udev
    state["device"] = device(ID_CDROM_MEDIA="1", ID_CDROM_MEDIA_STATE="blank")
    assert probe.medium_size("/dev/sr0") == 0
    state["device"] = device(ID_CDROM_MEDIA="0")
    with pytest.raises(errors.DriveNotReady):
        probe.medium_size("/dev/sr0")


def test_eject_on_something_that_is_not_a_drive(tmp_path: Path) -> None:
    f = tmp_path / "not-a-drive"
    f.write_bytes(b"")
    with pytest.raises(errors.MechanismFault) as e:
        UdevProbe().eject(str(f))
    assert "did not eject" in e.value.message
    with pytest.raises(errors.DriveNotReady):
        UdevProbe().eject(str(tmp_path / "missing"))
