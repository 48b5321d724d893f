"""The slot-changer serial dialect, shared by the driver (`serial_slot`) and the simulator.

Lines are ASCII and end with CR. Motion commands are acknowledged with `A`, then completed
with `C` or a numbered error `Exx`; `?B` polls busy (`B`) or ready (`R`); `?E` tells the
outcome of the last motion and which command it was. The full description is in
docs/robot-protocols.md; this module holds the tables both sides must agree on.
"""

from __future__ import annotations

from robot_drivers import errors

CR = b"\r"
ACK = "A"
DONE = "C"
BUSY = "B"
READY = "R"
OK_CODE = "E00"

# Error code -> (error class, what the code means).
ERROR_CODES: dict[str, tuple[type[errors.RobotError], str]] = {
    "E01": (errors.CommunicationError, "unknown command"),
    "E02": (errors.BadAddress, "bad parameter or address"),
    "E03": (errors.CommunicationError, "changer busy"),
    "E10": (errors.EmptySlot, "source is empty"),
    "E11": (errors.SlotFull, "destination is occupied"),
    "E12": (errors.EmptySlot, "drive is empty"),
    "E13": (errors.SlotFull, "drive is occupied"),
    "E20": (errors.DriveNotReady, "drive not ready (tray did not open)"),
    "E30": (errors.Jam, "picker jammed; reset required"),
    "E31": (errors.MechanismFault, "mechanism fault; reset required"),
    "E40": (errors.EmptySlot, "mail slot is empty"),
    "E41": (errors.SlotFull, "mail slot is occupied"),
}

# The most specific error class first, so an exception maps to its own code.
_CLASS_TO_CODE = {
    errors.Jam: "E30",
    errors.MechanismFault: "E31",
    errors.DriveNotReady: "E20",
    errors.BadAddress: "E02",
    errors.EmptySlot: "E10",
    errors.SlotFull: "E11",
}


def code_for(error: errors.RobotError) -> str:
    """The protocol code for an error raised by the simulated mechanism."""
    explicit = getattr(error, "code", None)
    if isinstance(explicit, str):
        return explicit
    for cls in type(error).__mro__:
        if cls in _CLASS_TO_CODE:
            return _CLASS_TO_CODE[cls]
    return "E31"


def describe(command: str) -> str:
    """`PL 005 0` -> "load slot 5 into drive 0" (for messages)."""
    words = command.split()
    n = [int(w) for w in words[1:] if w.isdigit()]
    try:
        return {
            "PL": lambda: f"load slot {n[0]} into drive {n[1]}",
            "PU": lambda: f"unload drive {n[0]} into slot {n[1] or 'of origin'}",
            "PT": lambda: f"move slot {n[0]} to slot {n[1]}",
            "PI": lambda: f"import mail slot {n[0]} to slot {n[1]}",
            "PE": lambda: f"export slot {n[0]} to mail slot {n[1]}",
            "RS": lambda: "reset",
        }[words[0]]()
    except (KeyError, IndexError):
        return f"`{command}`"


def error_for(code: str, command: str) -> errors.RobotError:
    """The exception a driver raises for `code` returned by `command`."""
    cls, meaning = ERROR_CODES.get(code, (errors.MechanismFault, "unknown error code"))
    return cls(f"changer could not {describe(command)}: {code} {meaning} (`{command}`)")


# Slot and drive state letters in `?I`, `?M` and `?D` replies.
SLOT_EMPTY = "E"
SLOT_FULL = "F"  # occupied, type unknown (changers without a media sensor)
SLOT_BLANK = "B"  # occupied by a blank medium (changers with a media sensor)
SLOT_RECORDED = "R"  # occupied by a recorded medium
INVENTORY_CHUNK = 100  # at most this many slots per `?I` reply
