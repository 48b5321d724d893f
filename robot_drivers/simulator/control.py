"""Start, find and stop the simulator process for a state directory.

With `[robot] driver = "simulator"` (the default) the wiring layer
(`odarchive.app.robot_config.ensure_simulator`) reuses the `running` simulator of a state
directory if its settings match, else `start`s one in the background (its own session, log in
`<state>/sim.log`). The process stops by itself after `idle_exit_s` without commands, or with
`stop`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from robot_drivers import errors
from robot_drivers.simulator.config import SimConfig
from robot_drivers.simulator.server import INFO_FILE


def running(state_dir: Path) -> dict[str, Any] | None:
    """The published info of a live simulator of `state_dir`, else None."""
    try:
        info = json.loads((Path(state_dir) / INFO_FILE).read_text())
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError):
        return None
    return None if _exited(pid) else info


def start(state_dir: Path, config: SimConfig, timeout_s: float = 15.0) -> dict[str, Any]:
    """Start a simulator in the background and wait until its pty is published."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / INFO_FILE).unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "robot_drivers.simulator",
        "serve",
        "--state",
        str(state_dir),
        "--config-json",
        json.dumps(asdict(config)),
    ]
    with open(state_dir / "sim.log", "ab") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        info = running(state_dir)
        if info and info["pid"] == proc.pid and Path(info["tty"]).exists():
            return info
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    raise errors.CommunicationError(
        f"the robot simulator did not start (see {state_dir / 'sim.log'})",
        hint="run `odarchive robot simulate` in the foreground to see why",
    )


def stop(state_dir: Path, timeout_s: float = 10.0) -> bool:
    """Stop the simulator of `state_dir`; False if none was running."""
    info = running(state_dir)
    if info is None:
        return False
    pid = int(info["pid"])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:  # our own child (tests): reap it
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        if _exited(pid):
            return True
        time.sleep(0.02)
    return False


def _exited(pid: int) -> bool:
    """Whether `pid` has exited: gone, or a zombie its parent (say the archive service that
    started it) has not reaped yet, which signal 0 still reaches."""
    try:
        os.kill(pid, 0)
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")
