"""Real kernel mounts: FUSE must be available. A missing /dev/fuse fails loudly, never skips."""

from __future__ import annotations

import os
import shutil

import pytest


@pytest.fixture(scope="session", autouse=True)
def fuse_available() -> None:
    if not os.path.exists("/dev/fuse") or not shutil.which("fusermount3"):
        pytest.fail("FUSE is not available (/dev/fuse and fusermount3 are required for tests/mount)", pytrace=False)
