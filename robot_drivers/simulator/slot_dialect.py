"""The simulator's side of the slot-changer dialect (see `robot_drivers.slot_protocol`).

`SlotDialect.handle(line)` turns one command line into the replies to send and when: motion
commands answer `A` at once and `C`/`Exx` when the motion is over; while a motion runs, other
motions get `E03` (busy) and queries are answered. The last motion's outcome is kept for `?E`.
"""

from __future__ import annotations

import time

from robot_drivers import errors
from robot_drivers import slot_protocol as P
from robot_drivers.simulator.faults import apply_fault
from robot_drivers.simulator.mechanism import Mechanism

Reply = tuple[float, str]  # (seconds from now, reply text without CR)


class SlotDialect:
    def __init__(self, mech: Mechanism) -> None:
        self.mech = mech
        self.busy_until = 0.0
        self.last = (P.OK_CODE, "")

    def handle(self, line: str) -> list[Reply]:
        words = line.strip().upper().split()
        if not words:
            return []
        cmd, args = words[0], words[1:]
        now = time.monotonic()
        busy = now < self.busy_until
        reply_s = self.mech.config.seconds("reply_s")
        try:
            if cmd == "?B":
                return [(reply_s, P.BUSY if busy else P.READY)]
            if cmd == "?E":
                return [(reply_s, P.BUSY if busy else f"L {self.last[0]} {self.last[1]}")]
            if cmd == "!F":
                with self.mech.store.locked() as st:
                    apply_fault(st, " ".join(args))
                return [(reply_s, "F OK")]
            if cmd.startswith("?"):
                return [(reply_s, self._query(cmd, [int(a) for a in args]))]
            if cmd in ("PL", "PU", "PT", "PI", "PE", "RS"):
                if busy:
                    return [(reply_s, "E03")]
                return self._motion(cmd, [int(a) for a in args], " ".join(words), reply_s)
        except ValueError:
            return [(reply_s, "E02")]
        except errors.RobotError as e:
            return [(reply_s, P.code_for(e))]
        return [(reply_s, "E01")]

    def _motion(self, cmd: str, a: list[int], text: str, reply_s: float) -> list[Reply]:
        m = self.mech
        arity = {"PL": 2, "PU": 2, "PT": 2, "PI": 2, "PE": 2, "RS": 0}[cmd]
        if len(a) != arity:
            return [(reply_s, "E02")]
        try:
            if cmd == "PL":
                duration = m.load(a[0], a[1])
            elif cmd == "PU":
                duration = m.unload(a[0], a[1] or None)[1]
            elif cmd == "PT":
                duration = m.transfer(a[0], a[1])
            elif cmd == "PI":
                duration = m.import_disc(a[0], a[1])
            elif cmd == "PE":
                duration = m.export_disc(a[0], a[1])
            else:
                duration = m.reset()
            code = P.OK_CODE
        except errors.BadAddress:
            return [(reply_s, "E02")]
        except errors.RobotError as e:  # found out by the picker half-way through the motion
            code, duration = P.code_for(e), m.config.seconds("load_s") / 2
        self.last = (code, text)
        self.busy_until = time.monotonic() + duration
        return [(reply_s, P.ACK), (duration, P.DONE if code == P.OK_CODE else code)]

    def _query(self, cmd: str, a: list[int]) -> str:
        st = self.mech.snapshot()
        letter = lambda medium: self.mech.medium_letter(st, medium)  # noqa: E731
        if cmd == "?V":
            return f"V ODASIM-{len(st['slots'])} 1.0"
        if cmd == "?N":
            return f"N {len(st['slots'])} {len(st['drives'])} {len(st['mail'])}"
        if cmd == "?I" and len(a) == 2 and 1 <= a[0] <= a[1] <= len(st["slots"]):
            if a[1] - a[0] + 1 > P.INVENTORY_CHUNK:
                raise ValueError(cmd)
            return f"I {a[0]:03d} " + "".join(letter(m) for m in st["slots"][a[0] - 1 : a[1]])
        if cmd == "?M":
            return "M " + "".join(letter(m) for m in st["mail"])
        if cmd == "?D" and len(a) == 1 and 0 <= a[0] < len(st["drives"]):
            d = st["drives"][a[0]]
            if a[0] in st["faults"]["not_ready"]:
                return f"D {a[0]} N"
            if d["medium"] is None:
                return f"D {a[0]} E"
            return f"D {a[0]} L {d['from'] or 0:03d} {letter(d['medium'])}"
        raise ValueError(cmd)
