"""Helpers for robot tests: a simulator process on a pty, its state, small disc images."""

from __future__ import annotations

import random
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from robot_drivers.simulator import control
from robot_drivers.simulator.config import SimConfig
from robot_drivers.simulator.faults import apply_fault
from robot_drivers.simulator.mechanism import Mechanism

FAST = dict(speed=1000.0, idle_exit_s=120.0)


@contextmanager
def simulator(state: Path, **config: Any) -> Iterator[dict[str, Any]]:
    """A running simulator process for `state` (fast timings unless overridden); stopped after."""
    cfg = SimConfig(**{**FAST, **config})
    info = control.start(state, cfg)
    try:
        yield info
    finally:
        control.stop(state)


def arm(state: Path, text: str) -> None:
    """Arm a fault in the simulator's state, as `odarchive robot simulate --fault` does."""
    mech = Mechanism(state, Mechanism.stored_config(state) or SimConfig())
    with mech.store.locked() as st:
        apply_fault(st, text)


def media_places(state: Path) -> dict[str, str]:
    """Where every medium is: medium id -> place ("slot 3", "drive 0", "mail 1", "bin input")."""
    st = Mechanism(state, Mechanism.stored_config(state) or SimConfig()).snapshot()
    places: dict[str, str] = {}
    for n, m in enumerate(st["slots"], 1):
        if m is not None:
            places[m] = f"slot {n}"
    for n, m in enumerate(st["mail"], 1):
        if m is not None:
            places[m] = f"mail {n}"
    for n, d in enumerate(st["drives"]):
        if d["medium"] is not None:
            places[d["medium"]] = f"drive {n}"
    for name, ids in st["bins"].items():
        for m in ids:
            places[m] = f"bin {name}"
    if st["picker"] is not None:
        places[st["picker"]] = "picker"
    return places


def make_image(path: Path, label: str, nbytes: int, seed: int = 0) -> Path:
    """A small ISO 9660 image labelled `label` holding `nbytes` of pseudo-random data."""
    src = path.with_suffix(".src")
    src.mkdir(parents=True, exist_ok=True)
    (src / "data.bin").write_bytes(random.Random(seed).randbytes(nbytes))
    subprocess.run(["xorriso", "-as", "mkisofs", "-V", label, "-o", str(path), str(src)],
                   check=True, capture_output=True)
    return path
