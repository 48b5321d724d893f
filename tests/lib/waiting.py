"""Waiting for a condition instead of sleeping a fixed time: fast when the condition comes
early, a clear failure naming it when it never comes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], what: str, timeout_s: float = 10.0, every_s: float = 0.02) -> T:
    """The first truthy value of `condition()`, polled every `every_s`; AssertionError naming
    `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout_s:g} s for {what}")
        time.sleep(every_s)
    return value
