"""Fault injection: the commands that make the simulated changer misbehave.

A fault command is a short text, given in `[robot.simulator] faults`, with
`odarchive robot simulate --fault TEXT`, or over the serial line as `!F TEXT`:

    jam [N]             after N more good motions (default 0) the next one jams; every
                        motion then fails until `reset`
    miss SLOT           the next load from SLOT finds it empty (sensor miss; the disc stays)
    notready DRIVE      DRIVE refuses media (tray stuck) until `reset`
    unreadable SLOT     the medium now in SLOT cannot be read in a drive
    scratch SLOT FIRST COUNT  sectors FIRST .. FIRST+COUNT-1 of the medium now in SLOT
                        cannot be read (the drive reports a read error; the rest reads)
    burnfail PCT [N]    the next N (default 1) blanks loaded fail their burn at PCT percent
    garble N            the next N replies on the line are garbage
    drop N              the next N replies on the line are lost
    unplug SECONDS      the serial adapter disappears for SECONDS, then comes back
    clear               forget every pending fault (a jam stays until `reset`)
"""

from __future__ import annotations

from typing import Any

from robot_drivers import errors
from robot_drivers.simulator.state import empty_faults


def apply_fault(state: dict[str, Any], text: str) -> str:
    """Apply fault command `text` to the state; returns a description. BadAddress if invalid."""
    words = text.split()
    if not words:
        raise errors.BadAddress("empty fault command")
    name, args = words[0].lower(), words[1:]
    f = state["faults"]
    try:
        if name == "jam":
            f["jam_after"] = int(args[0]) if args else 0
        elif name == "miss":
            f["miss"].append(int(args[0]))
        elif name == "notready":
            f["not_ready"].append(int(args[0]))
        elif name in ("unreadable", "scratch"):
            slot = int(args[0])
            medium = state["slots"][slot - 1] if 1 <= slot <= len(state["slots"]) else None
            if medium is None:
                raise errors.BadAddress(f"fault `{text}`: slot {slot} holds no disc")
            if name == "unreadable":
                state["media"][medium]["unreadable"] = True
            else:
                state["media"][medium].setdefault("bad_sectors", []).append([int(args[1]), int(args[2])])
        elif name == "burnfail":
            f["burnfail"] = [float(args[0]), int(args[1]) if len(args) > 1 else 1]
        elif name in ("garble", "drop"):
            f[name] = int(args[0])
        elif name == "unplug":
            f["unplug_s"] = float(args[0])
        elif name == "clear":
            jammed = f["jammed"]
            state["faults"] = empty_faults()
            state["faults"]["jammed"] = jammed
        else:
            raise errors.BadAddress(f"unknown fault `{name}`", hint="see `odarchive robot simulate --help`")
    except (IndexError, ValueError):
        raise errors.BadAddress(f"fault `{text}` needs a number argument") from None
    return f"fault armed: {text}"
