"""Faults with the archive service on the simulator: a jam during a recall while a burn runs;
kill -9 of the service mid-burn and mid-read; a client that dies holding a lease."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from odarchive.app.service.client import ServiceClient, ServiceError, ServiceUnreachable, service_client
from odarchive.home import Home
from robot_drivers.drives.optical import OpticalDrive
from tests.lib.robot_sim import arm, disc_states, media_places, setup_home

SLOW_BURN = "write_bytes_per_s = 100.0\n"  # ~3 s per disc at speed 1000: time to act mid-burn


pytestmark = pytest.mark.usefixtures("simulator_stopped")


def _wait(what: str, cond: Callable[[], Any], timeout_s: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _status(home: Path) -> dict[str, Any] | None:
    client = service_client(Home(home))
    if client is None:
        return None
    with client:
        return client.status()


def _burning(home: Path) -> dict[str, Any] | None:
    st = _status(home)
    leases = [d["lease"] for d in (st or {}).get("drives", []) if d.get("lease")]
    return st if any(x["kind"] == "burn" for x in leases) else None


def _burn(home: Path, spec: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "odarchive", "--home", str(home), "robot", "burn", "--segments", spec],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_a_jam_during_a_recall_fails_the_read_in_time_and_the_burn_carries_on(cli, home: Path) -> None:
    setup_home(home, 4, extra=SLOW_BURN)
    assert cli("robot", "burn", "--segments", "0").code == 0
    burn = _burn(home, "1")
    try:
        _wait("the burn of disc 1 to start", lambda: _burning(home))
        arm(home / "robot", "jam")  # the next motion, the recall of disc 0, jams the picker
        with ServiceClient(Home(home)) as client:
            t0 = time.monotonic()
            with pytest.raises(ServiceError) as e:
                client.lease("read", 0, "test reader", timeout_s=20)
            assert time.monotonic() - t0 < 20
            assert "disc 0" in e.value.message and "jam" in e.value.message.lower()
            assert _burning(home) is not None  # the burn holds its drive still
        _, err = burn.communicate(timeout=120)
    finally:
        burn.kill()
    assert disc_states(home)[1] == ("verified", None)  # burned and verified through the jam; stuck in its drive
    assert burn.returncode != 0 and "jam" in err.lower() and "reset" in err
    assert cli("robot", "reset").code == 0  # reconciles: disc 1 is recorded in its slot
    assert disc_states(home)[1][1] is not None
    r = cli("robot", "burn", "--segments", "0-3", "--json")
    assert r.code == 0, r.err
    assert sorted(b["disc"] for b in r.json()["burned"]) == [2, 3]
    rows = disc_states(home)
    assert all(state == "verified" and slot is not None for state, slot in rows.values())
    assert len({slot for _, slot in rows.values()}) == 4


@pytest.mark.slow
def test_kill_9_of_the_service_mid_burn_then_robot_burn_continues(cli, home: Path) -> None:
    setup_home(home, 3, extra=SLOW_BURN)
    places = None
    burn = _burn(home, "all")
    try:
        st = _wait("a burn lease", lambda: _burning(home))
        places = media_places(home / "robot")
        os.kill(st["service"]["pid"], signal.SIGKILL)
        _, err = burn.communicate(timeout=120)
    finally:
        burn.kill()
    assert burn.returncode != 0 and "archive service" in err and "did not answer" in err
    r = cli("robot", "burn", "--segments", "all", "--json")  # starts the service again: it reconciles
    assert r.code == 0, r.err
    assert "started the archive service" in r.err
    rows = disc_states(home)
    assert all(state == "verified" and slot is not None for state, slot in rows.values())
    assert len({slot for _, slot in rows.values()}) == 3
    assert set(media_places(home / "robot")) == set(places)  # no medium lost


def test_kill_9_of_the_service_mid_read_then_a_restart_keeps_the_disc_in_its_drive(cli, home: Path) -> None:
    images = setup_home(home, 2)
    assert cli("robot", "burn", "--segments", "all").code == 0
    client = ServiceClient(Home(home))
    lease = client.lease("read", 0, "test reader", timeout_s=30)
    pid = client.status()["service"]["pid"]
    os.kill(pid, signal.SIGKILL)
    dev = OpticalDrive.for_target(lease["device"])  # data never passed through the service: it still reads
    assert dev.read(0, 64 * 1024) == images[0].read_bytes()[: 64 * 1024]
    with pytest.raises(ServiceUnreachable) as e:
        client.release(lease["id"])
    assert "did not answer" in e.value.message and "serve" in e.value.hint
    client.close()
    log = home / "logs" / "service.log"
    _wait("the killed service to stop answering", lambda: service_client(Home(home)) is None)
    before = len(log.read_text())
    assert cli("robot", "status").code == 0  # a new service: it reconciles the drives
    with ServiceClient(Home(home)) as again:
        drive = {d["drive"]: d for d in again.status()["drives"]}[lease["drive"]]
        assert drive["disc"] == 0  # our disc stayed in its drive
        second = again.lease("read", 0, "test reader", timeout_s=30)
        again.release(second["id"])
    assert "event=drive.loaded" not in log.read_text()[before:]  # served where it was, no load


HOLDER = """
import sys, time
from odarchive.app.service.client import ServiceClient
from odarchive.home import Home
c = ServiceClient(Home.resolve(sys.argv[1]))
lease = c.lease("read", 0, "doomed client", timeout_s=30)
print(lease["drive"], flush=True)
time.sleep(600)
"""


def test_a_client_that_dies_holding_a_lease_gives_it_back(cli, home: Path) -> None:
    setup_home(home, 2, drives=1)
    assert cli("robot", "burn", "--segments", "all").code == 0
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(home)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "0"
        got: dict[str, Any] = {}

        def other() -> None:  # disc 1 needs the only drive, which the doomed client holds
            with ServiceClient(Home(home)) as c:
                got["lease"] = c.lease("read", 1, "patient client", timeout_s=60)
                got["at"] = time.monotonic()
                c.release(got["lease"]["id"])

        t = threading.Thread(target=other)
        t.start()
        time.sleep(1.0)
        assert "lease" not in got  # it waits behind the holder
        holder.kill()
        killed = time.monotonic()
        holder.wait(10)
        t.join(30)
    finally:
        holder.kill()
    assert got["lease"]["disc"] == 1 and got["at"] - killed < 5.0
    log = (home / "logs" / "service.log").read_text()
    assert "event=lease.reaped" in log and "client_died" in log
