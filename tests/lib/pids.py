"""A process id that belongs to no process, for records a crashed process would leave."""

from __future__ import annotations

from pathlib import Path


def dead_pid() -> int:
    """One above the kernel's largest pid: no process has it, now or later."""
    return int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
