"""Configuration precedence: defaults < odarchive.toml < ODARCHIVE_* < flags; every setting
declared once (odarchive.options) with one grammar for sizes and durations; bad settings are
clear errors."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

import pytest

from fuse_mount.cache import CacheConfig
from fuse_mount.service import MountConfig
from odarchive.app.robot_config import RobotConfig
from odarchive.app.service.config import ServiceConfig
from odarchive.archive_config import ArchiveConfig
from odarchive.config import load_settings
from odarchive.errors import InputError
from odarchive.options import BY_TABLE, OPTIONS, add_flags, flag_argv, flag_values, markdown
from odarchive.plan.planner import PlanConfig
from robot_drivers.simulator.config import SimConfig

DATACLASSES = {
    "archive": ArchiveConfig,
    "plan": PlanConfig,
    "robot": RobotConfig,
    "robot.simulator": SimConfig,
    "mount": MountConfig,
    "cache": CacheConfig,
    "service": ServiceConfig,
}
REPO = Path(__file__).resolve().parents[2]


def test_precedence_defaults_file_env_flags(tmp_path):
    f = tmp_path / "odarchive.toml"
    f.write_text('[robot.simulator]\nspeed = 10.0\nslots = 40\ndialect = "generic"\n[cache]\npolicy = "lru"\n')
    assert load_settings(tmp_path / "none.toml", {}).build(SimConfig, "robot.simulator") == SimConfig()
    s = load_settings(f, {})
    assert s.build(SimConfig, "robot.simulator") == SimConfig(speed=10.0, slots=40, dialect="generic")
    s = load_settings(
        f,
        {
            "ODARCHIVE_ROBOT_SIMULATOR_SLOTS": "80",
            "ODARCHIVE_SIM_SPEED": "1000",
            "ODARCHIVE_ROBOT_SIMULATOR_FAULTS": "jam 2,miss 6",
            "ODARCHIVE_CACHE_POLICY": "size",
        },
    )
    assert s.build(SimConfig, "robot.simulator") == SimConfig(
        speed=1000.0, slots=80, faults=("jam 2", "miss 6"), dialect="generic"
    )
    assert s.section("cache") == {"policy": "size"}
    assert s.build(SimConfig, "robot.simulator", slots=5, dialect=None) == SimConfig(
        speed=1000.0, slots=5, faults=("jam 2", "miss 6"), dialect="generic"
    )


def test_every_setting_is_declared_once_with_its_dataclass_field():
    assert sorted(BY_TABLE) == sorted(DATACLASSES)
    for table, cls in DATACLASSES.items():
        assert set(BY_TABLE[table]) == {f.name for f in fields(cls)}, table
    assert len({(o.table, o.key) for o in OPTIONS}) == len(OPTIONS)
    flags = [o.flag for o in OPTIONS if o.flag]
    assert len(flags) == len(set(flags))


def test_sizes_and_durations_read_the_same_from_file_environment_and_flags(tmp_path):
    f = tmp_path / "odarchive.toml"
    f.write_text('[cache]\nmax_bytes = "10G"\nmin_free_bytes = "10GiB"\nmax_age_s = "1h30m"\ndir = "/c"\n')
    s = load_settings(f, {"ODARCHIVE_CACHE_KEEP_HEADS_BYTES": "64KiB", "ODARCHIVE_CACHE_TRACE_MAX_BYTES": "1M"})
    conf = s.build(CacheConfig, "cache")
    assert (conf.max_bytes, conf.min_free_bytes, conf.max_age_s) == (10 * 10**9, 10 * 2**30, 5400.0)
    assert (conf.keep_heads_bytes, conf.trace_max_bytes) == (65536, 10**6)
    assert s.build(CacheConfig, "cache", max_bytes="2GiB").max_bytes == 2 * 2**30
    assert s.build(CacheConfig, "cache", max_bytes=4096).max_bytes == 4096  # a TOML integer is bytes


def test_flags_come_from_the_table_and_pass_to_another_process():
    p = argparse.ArgumentParser()
    add_flags(p, "mount", "cache")
    args = p.parse_args(["--cache-size", "10GiB", "--allow-other", "--disc-timeout", "15m"])
    assert flag_values(args, "cache") == {"max_bytes": "10GiB"}
    assert flag_values(args, "mount") == {"allow_other": True, "disc_timeout_s": "15m"}
    again = p.parse_args(flag_argv(args, "mount", "cache"))
    assert vars(again) == vars(args)
    assert "10GiB = 10*2^30" in p.format_help()


def test_unknown_setting_is_named(tmp_path):
    f = tmp_path / "odarchive.toml"
    f.write_text("[robot.simulator]\nsped = 3\n")
    with pytest.raises(InputError, match=r"unknown setting\(s\) in \[robot.simulator\]: sped") as e:
        load_settings(f, {}).build(SimConfig, "robot.simulator")
    assert "speed" in e.value.hint


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        ("ODARCHIVE_ROBOT_SIMULATOR_SLOTS", "many", r"\[robot.simulator\] slots = 'many': not a whole number"),
        ("ODARCHIVE_ROBOT_SIMULATOR_LOAD_S", "soon", r"\[robot.simulator\] load_s = 'soon': not a duration"),
        ("ODARCHIVE_ROBOT_SIMULATOR_CAPACITY_BYTES", "big", r"\[robot.simulator\] capacity_bytes = 'big': not a size"),
        ("ODARCHIVE_ROBOT_SIMULATOR_SPEED", "-1h", r"\[robot.simulator\] speed = '-1h': not a number"),
    ],
)
def test_wrong_type_from_environment_is_named(tmp_path, env, value, message):
    s = load_settings(tmp_path / "none.toml", {env: value})
    with pytest.raises(InputError, match=message) as e:
        s.build(SimConfig, "robot.simulator")
    assert env in e.value.hint


def test_the_options_document_is_the_table():
    text = (REPO / "docs" / "options.md").read_text()
    assert markdown() in text, "regenerate: .venv/bin/python -m odarchive.options (into docs/options.md)"


def test_broken_toml_is_a_clear_error(tmp_path, cli, home):
    (home / "odarchive.toml").write_text("[robot\nspeed=")
    r = cli("get_info")
    assert r.code == 3 and "cannot read" in r.err and "odarchive.toml" in r.err
