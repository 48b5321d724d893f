"""Running odarchive as another, unprivileged user: root reads everything, so what a user who
may only read the home (or the source) meets is tried as `nobody` through `setpriv`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_MAIN = "import sys; from odarchive.cli import main; sys.exit(main(sys.argv[1:]))"


def odarchive_as_nobody(*argv: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    """`odarchive ARGV...` run as nobody:nogroup with no supplementary groups."""
    return subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-c", _MAIN, *argv],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        timeout=timeout_s,
    )
