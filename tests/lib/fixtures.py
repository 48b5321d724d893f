"""Fixtures every test directory may use: a fresh home, an in-process CLI runner; and after
every test, the archive services it started are stopped (`tests.lib.services`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from odarchive.cli import main
from tests.lib.services import stop_services


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture(autouse=True)
def _services_stopped(request: pytest.FixtureRequest):
    """Stop the services a test started in its tmp_path (auto-started by robot commands)."""
    tmp = request.getfixturevalue("tmp_path") if "tmp_path" in request.fixturenames else None
    yield
    if tmp is not None:
        stop_services(tmp)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def cli(home: Path, capsys: pytest.CaptureFixture[str]):
    """cli("create_db", str(src), "--json") runs odarchive in-process against `home`."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        code = main(["--home", str(home), *argv])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def simulator_stopped(home: Path):
    """Stop the home's simulated robot after the test (for modules that start it through the CLI)."""
    yield
    from robot_drivers.simulator import control

    control.stop(home / "robot")
