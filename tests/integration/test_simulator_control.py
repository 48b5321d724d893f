"""Finding and stopping the simulator process: a simulator that has exited counts as gone
even while it is a zombie nobody has reaped yet (its parent, say the archive service, does
not wait for it), so `robot simulate --stop` and the tests' teardown do not wait out their
timeout for it."""

from __future__ import annotations

import subprocess
import time

from robot_drivers.simulator import control
from tests.lib.waiting import wait_until


def test_an_exited_unreaped_process_is_gone_and_a_live_one_is_not() -> None:
    live = subprocess.Popen(["sleep", "30"])
    done = subprocess.Popen(["true"])
    try:
        assert not control._exited(live.pid)
        wait_until(lambda: control._exited(done.pid), "the finished child to count as exited (a zombie)")
        with open(f"/proc/{done.pid}/stat") as f:
            assert f.read().rsplit(")", 1)[1].split()[0] == "Z"  # still there, unreaped
    finally:
        live.kill()
        live.wait()
        done.wait()
    assert control._exited(done.pid)


def test_stop_returns_at_once_when_the_simulator_has_exited(tmp_path) -> None:
    from robot_drivers.simulator.config import SimConfig

    state = tmp_path / "robot"
    control.start(state, SimConfig(speed=1000.0, idle_exit_s=120.0))
    assert control.running(state) is not None
    t0 = time.monotonic()
    assert control.stop(state)
    assert time.monotonic() - t0 < 5
    assert control.running(state) is None
