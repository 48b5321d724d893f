"""Helpers for robot tests: a simulator process on a pty, its state, small disc images."""

from __future__ import annotations

import random
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from odarchive.burnlog import BurnLog
from odarchive.catalogue import Catalogue, plans
from odarchive.catalogue import images as images_rows
from odarchive.hashing import file_sha256
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


def disc_states(home: Path) -> dict[int, tuple[str, int | None]]:
    """Every disc's (state, slot) as the catalogue records them."""
    with Catalogue.open(home / "catalogue.sqlite", readonly=True) as cat:
        return {d.disc: (d.state, d.slot) for d in BurnLog(cat).discs()}


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
    subprocess.run(
        ["xorriso", "-as", "mkisofs", "-V", label, "-o", str(path), str(src)], check=True, capture_output=True
    )
    return path


IMAGE_BYTES = 300_000


def setup_home(
    home: Path, discs: int, drives: int = 2, slots: int = 16, blanks: int = 12, extra: str = ""
) -> dict[int, Path]:
    """A catalogue with `discs` planned discs whose images are built, and a fast simulator config."""
    (home / "odarchive.toml").write_text(
        "[robot.simulator]\n"
        f"speed = 1000.0\nslots = {slots}\ndrives = {drives}\nblanks = {blanks}\nidle_exit_s = 60.0\n{extra}"
    )
    (home / "isos").mkdir(exist_ok=True)
    images = {}
    with Catalogue.open(home / "catalogue.sqlite", create=True) as cat:
        for n in range(discs):
            label = f"TESTARCHIVE_{n:04d}"  # as odarchive.iso.build.volume_ident names them
            img = make_image(home / "isos" / f"disc{n:04d}.iso", label, IMAGE_BYTES + n, seed=n)
            images[n] = img
            size = img.stat().st_size
            with cat.transaction() as c:
                plans.add_disc(c, n, "TESTARCHIVE", 10**9, size, 10**9, None, [], [])
                images_rows.mark_written(c, n, img.name, size, file_sha256(img))
    return images
