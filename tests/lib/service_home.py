"""A home with a fast simulated robot and its archive service, for service tests.

`running_service(home)` starts `odarchive serve` in the background (TCP on a free loopback
port) and stops the service and the simulator afterwards, whatever the test did.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from odarchive.app.service.client import ServiceClient, service_client
from odarchive.cli import main
from odarchive.home import Home

FAST_ROBOT = "[robot.simulator]\nspeed = 1000\nidle_exit_s = 120\n"


def make_home(root: Path, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "odarchive.toml").write_text(FAST_ROBOT + extra)
    return root


@contextmanager
def running_service(home: Path, *flags: str) -> Iterator[ServiceClient]:
    assert main(["--home", str(home), "serve", "--listen", "127.0.0.1:0", *flags]) == 0
    client = service_client(Home.resolve(home))
    assert client is not None, f"the service does not answer; see {home / 'logs' / 'service.log'}"
    try:
        yield client
    finally:
        client.close()
        main(["--home", str(home), "serve", "--stop", "--force"])
        main(["--home", str(home), "robot", "simulate", "--stop"])
