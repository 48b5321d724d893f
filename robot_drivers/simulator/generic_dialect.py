"""The simulator's side of the generic bin-autoloader dialect (one character per command).

`I` input bin -> drive, `A` drive -> output bin, `G` drive -> picker, `R` picker (or drive) ->
reject bin, `C` calibrate (reset), `S` status, `V` version. A motion is answered once, when it
is over: `X` done or `E` failed. `S` answers `X` (ready), `B` (busy) or the reason of the last
failure: `J` jam, `M` source empty, `F` destination occupied, `N` drive not ready. `V` answers
a CR-terminated text line. Bytes that are not commands (CR, LF, spaces) are ignored.
"""

from __future__ import annotations

import time

from robot_drivers import errors
from robot_drivers.simulator.mechanism import Mechanism

Reply = tuple[float, str]

REASONS: tuple[tuple[type[errors.RobotError], str], ...] = (
    (errors.MechanismFault, "J"),
    (errors.EmptySlot, "M"),
    (errors.SlotFull, "F"),
    (errors.DriveNotReady, "N"),
)


class GenericDialect:
    def __init__(self, mech: Mechanism) -> None:
        self.mech = mech
        self.busy_until = 0.0
        self.reason = "X"

    def handle(self, char: str) -> list[Reply]:
        c = char.upper()
        if c in " \r\n\t":
            return []
        m = self.mech
        reply_s = m.config.seconds("reply_s")
        busy = time.monotonic() < self.busy_until
        if c == "S":
            return [(reply_s, "B" if busy else self.reason)]
        if c == "V":
            return [(reply_s, "ODASIM-GENERIC 1.0\r")]
        motions = {
            "I": m.bin_input_to_drive,
            "A": lambda: m.bin_drive_to("output"),
            "G": lambda: m.bin_drive_to("picker"),
            "R": m.bin_reject,
            "C": m.reset,
        }
        if c not in motions or busy:
            return [(reply_s, "E")]
        try:
            duration, self.reason, answer = motions[c](), "X", "X"
        except errors.RobotError as e:
            self.reason = next((r for cls, r in REASONS if isinstance(e, cls)), "J")
            duration, answer = m.config.seconds("load_s") / 2, "E"
        self.busy_until = time.monotonic() + duration
        return [(duration + reply_s, answer)]
