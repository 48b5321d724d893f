"""No archive service outlives its test.

Commands that need the robot (`robot ...`, `scrub`, `mount`, `restore` without images) start
the home's service in the background and leave it running for the next command, as a
person would want. A test must not leave it behind: `stop_services(root)` stops every
service whose home is at most three levels below `root` (forced: the test is over). The
fixtures use it after each test (its tmp_path) and at the end of the session (the base
temporary directory, for module-scoped homes).
"""

from __future__ import annotations

from pathlib import Path

from odarchive.app.service.client import stop_service
from odarchive.home import Home

PATTERNS = ("service.sock", "*/service.sock", "*/*/service.sock", "*/*/*/service.sock")


def stop_services(root: Path) -> list[Path]:
    """Stop the services of the homes under `root`; the homes whose service was stopped."""
    stopped = []
    for pattern in PATTERNS:
        for sock in root.glob(pattern):
            if stop_service(Home(sock.parent), force=True, wait_s=15.0):
                stopped.append(sock.parent)
    return stopped
