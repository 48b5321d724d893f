"""`odarchive robot ...` commands: the default simulator, other drivers through [robot], errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from robot_drivers.simulator import control

FAST = "[robot.simulator]\nspeed = 1000.0\nslots = 12\nblanks = 5\nidle_exit_s = 60.0\n"


@pytest.fixture(autouse=True)
def stop_simulator(home: Path):
    yield
    control.stop(home / "robot")


def test_default_config_starts_the_simulator_and_moves_discs(cli, home: Path) -> None:
    (home / "odarchive.toml").write_text(FAST)
    r = cli("robot", "status", "--json")
    assert r.code == 0, r.err
    status = r.json()
    assert status["driver"] == "simulator" and status["slots"] == {"blank": 5, "empty": 7}
    pid = status["simulator_pid"]
    assert cli("robot", "load", "3", "--drive", "1").code == 0
    inv = cli("robot", "inventory", "--json").json()
    assert set(inv) == {"slots", "drives", "mail"}
    assert inv["slots"][2] == {"slot": 3, "state": "empty", "disc": None, "label": None, "kind": "storage"}
    assert inv["drives"][1]["state"] == "loaded" and inv["drives"][1]["loaded_from_slot"] == 3
    assert inv["drives"][1]["disc"] is None  # a blank is no disc of ours
    r = cli("robot", "unload", "--drive", "1", "--slot", "9", "--json")
    assert r.json() == {"unloaded": 1, "slot": 9}
    assert cli("robot", "status", "--json").json()["simulator_pid"] == pid  # reused, not restarted
    text = cli("robot", "inventory").out
    assert "slot 9: blank" in text and "12 slots" in text


def test_faults_through_the_cli_and_reset(cli, home: Path) -> None:
    (home / "odarchive.toml").write_text(FAST)
    assert cli("robot", "status").code == 0
    assert cli("robot", "simulate", "--fault", "jam").code == 0
    r = cli("robot", "load", "1")
    assert r.code == 6 and "E30" in r.err and "hint" in r.err
    r = cli("robot", "load", "1", "--json")
    assert r.code == 6 and '"exit_code": 6' in r.err
    assert cli("robot", "reset").code == 0
    assert cli("robot", "load", "1").code == 0
    r = cli("robot", "load", "2")
    assert r.code == 6 and "occupied" in r.err
    assert cli("robot", "simulate", "--fault", "bogus").code == 6
    assert cli("robot", "simulate", "--add-blanks", "3").out.strip() == "added 3 blank(s)"
    assert cli("robot", "simulate", "--stop").out.strip() == "simulator stopped"
    assert control.running(home / "robot") is None


def test_generic_dialect_simulator(cli, home: Path) -> None:
    (home / "odarchive.toml").write_text(FAST + 'dialect = "generic"\ndrives = 1\n')
    inv = cli("robot", "inventory", "--json").json()
    assert [(s["slot"], s.get("name"), s["kind"]) for s in inv["slots"]] == [
        (1, "input", "bin"),
        (2, "output", "bin"),
        (3, "reject", "bin"),
    ]
    assert cli("robot", "load", "1").code == 0
    assert cli("robot", "load", "5").code == 6


@pytest.mark.slow
def test_mtx_driver_on_the_simulator_state(cli, home: Path) -> None:
    (home / "odarchive.toml").write_text(FAST)
    assert cli("robot", "status").code == 0  # creates <home>/robot
    control.stop(home / "robot")
    (home / "odarchive.toml").write_text(
        FAST + f'[robot]\ndriver = "mtx"\ndevice = "{home / "robot"}"\n'
        f'mtx_command = "{sys.executable} -m robot_drivers.simulator.mtx_front"\n'
    )
    assert cli("robot", "load", "2", "--drive", "0").code == 0
    inv = cli("robot", "inventory", "--json").json()
    assert inv["drives"][0]["loaded_from_slot"] == 2 and len(inv["slots"]) == 12 and len(inv["mail"]) == 1
    assert cli("robot", "unload").json is not None
    assert cli("robot", "unload").code == 6  # now empty


def test_bad_robot_configuration(cli, home: Path) -> None:
    (home / "odarchive.toml").write_text('[robot]\ndriver = "telepathy"\n')
    r = cli("robot", "status")
    assert r.code == 2 and "telepathy" in r.err
    (home / "odarchive.toml").write_text('[robot]\ndriver = "serial"\n')
    assert cli("robot", "status").code == 2
    (home / "odarchive.toml").write_text(
        '[robot]\ndriver = "serial"\ndevice = "/dev/odarchive-nothing"\nreconnect_s = 0.2\n'
    )
    r = cli("robot", "status")
    assert r.code == 6 and "/dev/odarchive-nothing" in r.err and "udev" in r.err


def test_simulate_in_the_foreground_until_interrupted(home: Path) -> None:
    import signal
    import subprocess
    import time

    (home / "odarchive.toml").write_text(FAST)
    proc = subprocess.Popen(
        [sys.executable, "-m", "odarchive", "--home", str(home), "robot", "simulate"], stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 20
        while control.running(home / "robot") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        info = control.running(home / "robot")
        assert info is not None and info["pid"] == proc.pid and Path(info["tty"]).is_symlink()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
        assert "Ctrl-C stops" in proc.stderr.read()
        assert not (home / "robot" / "tty").exists() and control.running(home / "robot") is None
    finally:
        proc.kill()


def test_manual_driver_asks_and_checks_the_label(cli, home: Path, tmp_path: Path) -> None:
    """The manual driver on a stdio: pseudo-drive: the request, a missing disc, a wrong disc, the right one."""
    import shutil

    from tests.lib.robot_sim import setup_home

    images = setup_home(home, 4)
    drive = tmp_path / "drive.img"
    (home / "odarchive.toml").write_text(
        f'[robot]\ndriver = "manual"\ndevice = "stdio:{drive}"\nmedia_timeout_s = 0.3\n'
    )
    r = cli("robot", "load", "3")
    assert r.code == 6 and "insert disc 3 (label TESTARCHIVE_0003)" in r.err and "no medium" in r.err
    assert cli("robot", "status", "--json").json()["request"].startswith("insert disc 3")
    scrub = cli("status", "--json").json()["service"]["scrub"]  # nobody is asked for discs behind their back
    assert scrub["every"] == "off" and "manual driver" in scrub["why"]
    shutil.copy(images[2], drive)
    r = cli("robot", "load", "3")
    assert r.code == 6 and "TESTARCHIVE_0002" in r.err and "not disc 3" in r.err
    shutil.copy(images[3], drive)
    assert cli("robot", "load", "3").code == 0
    assert cli("robot", "status", "--json").json()["request"] is None
    r = cli("robot", "unload")  # the service loaded it, so it knows which disc to ask for
    assert r.code == 0 and "take disc 3 out" in r.err
    drive.unlink()
    assert cli("robot", "unload").code == 6


def test_simulator_ends_when_its_home_is_removed(tmp_path: Path) -> None:
    import os
    import shutil
    import time

    from robot_drivers.simulator.config import SimConfig

    state = tmp_path / "home" / "robot"
    pid = control.start(state, SimConfig(speed=1000.0))["pid"]
    shutil.rmtree(tmp_path / "home")
    deadline = time.monotonic() + 5
    while os.waitpid(pid, os.WNOHANG)[0] != pid:  # our child: reaped once it exits
        assert time.monotonic() < deadline, "the simulator outlived its home"
        time.sleep(0.05)


def test_moves_by_hand_keep_the_burn_record_true(cli, home: Path) -> None:
    from tests.lib.robot_sim import setup_home
    from tests.lib.trees import disc_copies

    setup_home(home, 2, drives=1, slots=8, blanks=4)
    assert cli("robot", "burn", "--segments", "all").code == 0
    slot_of = lambda d: disc_copies(home, d)[0].slot  # noqa: E731
    s0 = slot_of(0)
    assert cli("robot", "load", str(s0)).code == 0
    assert cli("robot", "unload", "--slot", "7").code == 0  # disc 0 now lives in slot 7
    assert slot_of(0) == 7
    assert cli("robot", "inventory", "--json").json()["slots"][6]["disc"] == 0
    assert cli("robot", "export", "7").code == 0  # handed out: no longer in the changer
    assert slot_of(0) is None
    r = cli("robot", "import", "8", "--json")
    assert r.code == 0 and r.json() == {"imported": 8, "mail": 1, "disc": 0}  # loaded, its label read
    assert slot_of(0) == 8  # found again: no longer orphaned
    assert cli("robot", "export", "1", "--mail", "2").code == 6  # there is one mail slot
