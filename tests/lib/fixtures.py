"""Fixtures every test directory may use: a fresh home, an in-process CLI runner."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from odarchive.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


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
