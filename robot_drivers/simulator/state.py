"""The simulated changer's persistent state: one JSON file under the state directory.

Every operation loads the state under an exclusive `flock`, changes it and writes it back
atomically, so the pty server and the mtx front end (separate processes) can share it. Layout
of the state directory:

    state.json        geometry, where every medium is, media, pending faults
    state.lock        the flock
    media/<id>.img    the bytes of each recorded medium that is not in a drive
    drives/driveN.img the pseudo-drive of drive N (xorriso `stdio:` target), present when loaded
    drives/driveN.img.json  what the drive reports about its medium (see drives.stdio_probe)
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from robot_drivers.simulator.config import SimConfig

STATE_VERSION = 1


def new_state(config: SimConfig) -> dict[str, Any]:
    """A fresh changer: blanks in the first slots (or the input bin), drives empty."""
    media: dict[str, dict[str, Any]] = {}
    ids = []
    count = config.blanks if config.dialect != "generic" else min(config.blanks, 100)
    for n in range(count if config.dialect == "generic" else min(count, config.slots)):
        mid = str(n + 1)
        media[mid] = {"blank": True, "label": None, "unreadable": False}
        ids.append(mid)
    slots: list[str | None] = [None] * (0 if config.dialect == "generic" else config.slots)
    bins: dict[str, list[str]] = {"input": [], "output": [], "reject": []}
    if config.dialect == "generic":
        bins["input"] = ids
    else:
        slots[: len(ids)] = ids
    return {
        "version": STATE_VERSION,
        "config": asdict(config),
        "dialect": config.dialect,
        "slots": slots,
        "mail": [None] * config.mail_slots,
        "drives": [{"medium": None, "from": None} for _ in range(config.drives)],
        "bins": bins,
        "picker": None,
        "media": media,
        "next_id": len(ids) + 1,
        "faults": empty_faults(),
    }


def empty_faults() -> dict[str, Any]:
    return {
        "jammed": False,
        "jam_after": None,
        "miss": [],
        "not_ready": [],
        "burnfail": None,
        "garble": 0,
        "drop": 0,
        "unplug_s": 0.0,
    }


class StateStore:
    """Locked access to `state.json` in `root`; creates it from `config` when missing."""

    def __init__(self, root: Path, config: SimConfig) -> None:
        self.root = Path(root)
        self.config = config
        self.media_dir = self.root / "media"
        self.drives_dir = self.root / "drives"
        for d in (self.root, self.media_dir, self.drives_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._file = self.root / "state.json"
        self._lock = self.root / "state.lock"
        self._cache: tuple[tuple[int, int, int], dict[str, Any]] | None = None

    @contextmanager
    def locked(self, write: bool = True) -> Iterator[dict[str, Any]]:
        """The state, exclusively locked; written back when the block ends without error."""
        with open(self._lock, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            created = not self._file.exists()
            before = "" if created else self._file.read_text()
            state = new_state(self.config) if created else json.loads(before)
            yield state
            after = json.dumps(state, indent=1)
            if (write or created) and after != before:
                tmp = self._file.with_suffix(".tmp")
                tmp.write_text(after)
                os.replace(tmp, self._file)

    def read(self) -> dict[str, Any]:
        """The current state for reading only (never mutate it): cached while the file is unchanged.

        Writers replace the file atomically, so a read needs no lock; the cache key is the
        file's (inode, size, mtime), which every write changes.
        """
        try:
            st = os.stat(self._file)
        except FileNotFoundError:
            with self.locked():
                pass
            st = os.stat(self._file)
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, json.loads(self._file.read_text()))
        return self._cache[1]

    def stored_config(self) -> SimConfig | None:
        """The configuration the state was created with (None before it exists)."""
        if not self._file.exists():
            return None
        with self.locked(write=False) as st:
            raw = dict(st.get("config") or {})
        raw["faults"] = tuple(raw.get("faults") or ())
        return SimConfig(**raw)

    def medium_file(self, medium: str) -> Path:
        return self.media_dir / f"{medium}.img"

    def drive_file(self, drive: int) -> Path:
        return self.drives_dir / f"drive{drive}.img"

    def drive_sidecar(self, drive: int) -> Path:
        return self.drives_dir / f"drive{drive}.img.json"
