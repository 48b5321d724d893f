"""The simulator's settings: geometry, dialect, timings and faults (`[robot.simulator]`).

Timings are those of a real Blu-ray changer and are divided by `speed` (tests use 1000 or
more). `faults` are fault commands applied when the state is first created, in the same
syntax as `odarchive robot simulate --fault` (see `robot_drivers.simulator.faults`).
"""

from __future__ import annotations

from dataclasses import dataclass

BD_CAPACITY = 12_219_392 * 2048


@dataclass(frozen=True)
class SimConfig:
    slots: int = 600
    drives: int = 2
    mail_slots: int = 1
    blanks: int = 600  # blank media put into slots 1..blanks (or the input bin) at creation
    dialect: str = "slot"  # "slot" (Pioneer-style lines) or "generic" (bin autoloader)
    speed: float = 1.0  # divides every timing below
    capacity_bytes: int = BD_CAPACITY
    load_s: float = 8.0  # slot -> drive, tray closed
    unload_s: float = 6.0  # drive -> slot
    transfer_s: float = 7.0  # slot -> slot
    mail_s: float = 9.0  # mail slot <-> slot
    reset_s: float = 12.0  # re-home the picker
    spinup_s: float = 5.0  # a loaded medium becomes readable
    write_bytes_per_s: float = 18_000_000.0  # 4x BD-R
    read_bytes_per_s: float = 0.0  # 0: as fast as the medium file reads (72000000: BD 16x)
    reply_s: float = 0.002  # latency of one reply on the line (9600 baud is ~1 ms/char)
    idle_exit_s: float = 1800.0  # the server process exits after this long without commands
    faults: tuple[str, ...] = ()

    def seconds(self, name: str) -> float:
        """The timing `name` (e.g. "load_s") divided by the speed factor."""
        return float(getattr(self, name)) / max(self.speed, 1e-9)
