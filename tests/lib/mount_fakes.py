"""Test doubles for the mount's collaborators: an in-memory chunk store and a fake robot.

`MemoryCache` implements the part of `fuse_mount.cache.Cache` the fetcher and reader use,
verifying hashes the same way, so fetcher tests can count hits and puts exactly. `FakeRobot`
is a changer with drives over image files, with a load delay and an injectable jam, for the
`RobotSource` without the serial simulator.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

from robot_drivers.errors import EmptySlot, Jam, UnreadableDisc
from robot_drivers.interfaces import DRIVE_EMPTY, DRIVE_LOADED, RECORDED, DriveInfo, Inventory, SlotInfo


class MemoryCache:
    def __init__(self, chunk_bytes: int) -> None:
        self.chunk_bytes = chunk_bytes
        self.chunks: dict[str, dict[int, bytes]] = {}
        self.hits = self.misses = self.puts = self.waits = 0
        self.disc_loads: list[int] = []
        self.open: dict[str, int] = {}
        self._lock = threading.Lock()

    def chunk_range(self, size: int, index: int) -> tuple[int, int]:
        off = index * self.chunk_bytes
        return off, min(self.chunk_bytes, size - off)

    def _needed(self, size: int, offset: int, length: int) -> range:
        if size == 0 or length <= 0:
            return range(0)
        end = min(size, offset + length)
        return range(offset // self.chunk_bytes, (end - 1) // self.chunk_bytes + 1)

    def missing_chunks(self, key: str, size: int, offset: int, length: int) -> list[int]:
        with self._lock:
            have = self.chunks.get(key, {})
            return [i for i in self._needed(size, offset, length) if i not in have]

    def peek(self, key: str, offset: int, length: int) -> bytes | None:
        """The bytes if every chunk the range needs is here (callers clamp to the size)."""
        with self._lock:
            have = self.chunks.get(key, {})
            needed = self._needed(offset + length, offset, length)
            if any(i not in have for i in needed):
                return None
            data = b"".join(have[i] for i in needed)
        start = offset - needed.start * self.chunk_bytes if needed else 0
        return data[start : start + length]

    def get(self, key: str, offset: int, length: int) -> bytes | None:
        data = self.peek(key, offset, length)
        with self._lock:
            if data is None:
                self.misses += 1
            else:
                self.hits += 1
        return data

    def is_cached(self, key: str) -> bool:
        return key in self.chunks

    def put_whole(self, key: str, data: bytes, sha256_expected: str | None = None) -> bool:
        if hashlib.sha256(data).hexdigest() != (sha256_expected or key):
            return False
        with self._lock:
            self.puts += 1
            self.chunks[key] = {i // self.chunk_bytes: data[i : i + self.chunk_bytes] for i in range(0, len(data), self.chunk_bytes)}
        return True

    def put_chunk(self, key: str, size: int, index: int, data: bytes, chunk_sha256_expected: str) -> bool:
        if len(data) != self.chunk_range(size, index)[1]:
            raise ValueError("wrong chunk length")
        if hashlib.sha256(data).hexdigest() != chunk_sha256_expected:
            return False
        with self._lock:
            self.puts += 1
            self.chunks.setdefault(key, {})[index] = data
        return True

    def record_disc_load(self, disc: int) -> None:
        with self._lock:
            self.disc_loads.append(disc)

    def record_wait(self, seconds: float) -> None:
        with self._lock:
            self.waits += 1

    def open_handle(self, key: str) -> None:
        with self._lock:
            self.open[key] = self.open.get(key, 0) + 1

    def close_handle(self, key: str) -> None:
        with self._lock:
            self.open[key] -= 1


class FakeDrive:
    def __init__(self, robot: "FakeRobot", n: int) -> None:
        self.name = f"fake{n}"
        self._robot = robot
        self._n = n

    def wait_for_media(self, timeout_s: float) -> None:
        pass

    def medium_size(self) -> int:
        return self._path().stat().st_size

    def volume_label(self) -> str | None:
        return self._robot.labels[self._robot.in_drive[self._n]]  # type: ignore[index]

    def _path(self) -> Path:
        slot = self._robot.in_drive[self._n]
        if slot is None:
            raise UnreadableDisc(f"drive {self._n} is empty")
        return self._robot.images[slot]

    def read(self, offset: int, length: int) -> bytes:
        if self._robot.unreadable:
            raise UnreadableDisc(f"drive {self._n}: read error at {offset}")
        with open(self._path(), "rb") as f:
            f.seek(offset)
            return f.read(length)

    def burn(self, image_path: Path, progress_cb=None) -> None:  # pragma: no cover - not used by the mount
        raise NotImplementedError

    def eject(self) -> None:
        pass


class FakeRobot:
    """A changer with `drives` drives; slot s (from 1) holds the disc with labels[s]."""

    def __init__(self, images: dict[int, Path], labels: dict[int, str], drives: int = 1, load_s: float = 0.05) -> None:
        self.images, self.labels, self.load_s = images, labels, load_s
        self.in_drive: list[int | None] = [None] * drives
        self.jammed = self.jam_hangs = self.unreadable = False
        self.loads: list[int] = []
        self.drives = [FakeDrive(self, n) for n in range(drives)]
        self._lock = threading.Lock()

    def inventory(self) -> Inventory:
        slots = tuple(SlotInfo(s, RECORDED, label) for s, label in self.labels.items() if s not in self.in_drive)
        drives = tuple(
            DriveInfo(n, DRIVE_LOADED if s is not None else DRIVE_EMPTY, s, self.labels.get(s) if s else None)
            for n, s in enumerate(self.in_drive)
        )
        return Inventory(slots, drives)

    def load(self, slot: int, drive: int = 0) -> None:
        with self._lock:
            if self.jammed:
                if self.jam_hangs:
                    time.sleep(3600)
                raise Jam(f"picker jammed loading slot {slot}")
            if slot not in self.images or slot in self.in_drive:
                raise EmptySlot(f"slot {slot} is empty")
            time.sleep(self.load_s)
            self.in_drive[drive] = slot
            self.loads.append(slot)

    def unload(self, drive: int = 0, slot: int | None = None) -> int:
        with self._lock:
            s = self.in_drive[drive]
            self.in_drive[drive] = None
            return s or 0

    def transfer(self, source_slot: int, dest_slot: int) -> None:
        raise NotImplementedError

    def import_disc(self, slot: int, mail_slot: int = 1) -> None:
        raise NotImplementedError

    def export_disc(self, slot: int, mail_slot: int = 1) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        self.jammed = False

    def close(self) -> None:
        pass
