"""Configuration precedence: defaults < odarchive.toml < ODARCHIVE_* < flags; bad settings are
clear errors."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from odarchive.config import load_settings
from odarchive.errors import InputError


@dataclass(frozen=True)
class Sim:
    speed: float = 1.0
    slots: int = 600
    faults: bool = False
    name: str = "sim"


def test_precedence_defaults_file_env_flags(tmp_path):
    f = tmp_path / "odarchive.toml"
    f.write_text('[robot.simulator]\nspeed = 10.0\nslots = 40\nname = "from-file"\n[cache]\npolicy = "lru"\n')
    assert load_settings(tmp_path / "none.toml", {}).build(Sim, "robot.simulator") == Sim()
    s = load_settings(f, {})
    assert s.build(Sim, "robot.simulator") == Sim(speed=10.0, slots=40, name="from-file")
    s = load_settings(f, {"ODARCHIVE_ROBOT_SIMULATOR_SLOTS": "80", "ODARCHIVE_SIM_SPEED": "1000",
                          "ODARCHIVE_ROBOT_SIMULATOR_FAULTS": "yes", "ODARCHIVE_CACHE_POLICY": "size"})
    assert s.build(Sim, "robot.simulator") == Sim(speed=1000.0, slots=80, faults=True, name="from-file")
    assert s.section("cache") == {"policy": "size"}
    assert s.build(Sim, "robot.simulator", slots=5, name=None) == Sim(speed=1000.0, slots=5, faults=True,
                                                                      name="from-file")


def test_unknown_setting_is_named(tmp_path):
    f = tmp_path / "odarchive.toml"
    f.write_text("[robot.simulator]\nsped = 3\n")
    with pytest.raises(InputError, match=r"unknown setting\(s\) in \[robot.simulator\]: sped"):
        load_settings(f, {}).build(Sim, "robot.simulator")


def test_wrong_type_from_environment_is_named(tmp_path):
    s = load_settings(tmp_path / "none.toml", {"ODARCHIVE_ROBOT_SIMULATOR_SLOTS": "many"})
    with pytest.raises(InputError, match="robot.simulator.slots = 'many' is not a valid int"):
        s.build(Sim, "robot.simulator")


def test_broken_toml_is_a_clear_error(tmp_path, cli, home):
    (home / "odarchive.toml").write_text("[robot\nspeed=")
    r = cli("get_info")
    assert r.code == 3 and "cannot read" in r.err and "odarchive.toml" in r.err
