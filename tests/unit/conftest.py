"""tests/unit is the cheap tier: in this process only, no other process started and nothing
mounted. Starting a process (subprocess, multiprocessing's spawn/forkserver, os.posix_spawn)
fails the test with a pointer to tests/integration, so the tier stays what its name says."""

from __future__ import annotations

import os
import subprocess

import pytest


class _StartsAProcess(AssertionError):
    pass


def _refuse(*args: object, **kwargs: object) -> None:
    raise _StartsAProcess("a unit test started a process: move it to tests/integration (or tests/mount)")


@pytest.fixture(autouse=True)
def no_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse)
    monkeypatch.setattr(os, "posix_spawn", _refuse)
    monkeypatch.setattr(os, "fork", _refuse)
