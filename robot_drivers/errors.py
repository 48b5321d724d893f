"""The `RobotError` family: everything a changer or a drive can do wrong.

Every error carries a `message` (what went wrong, with the slot/drive involved), a `hint`
(what the user can do) and `exit_code` 6, the same attributes as odarchive's own errors, so
the command line reports them without importing this package at module level.
"""

from __future__ import annotations

EXIT_ROBOT = 6


class RobotError(Exception):
    """Root of all changer and drive errors."""

    exit_code: int = EXIT_ROBOT
    hint: str = "run `odarchive robot status`; `odarchive robot reset` clears most faults"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return self.message


class BadAddress(RobotError):
    """A slot, drive or bin number that this changer does not have, or an unsupported move."""

    hint = "see `odarchive robot inventory` for the slots and drives this changer has"


class EmptySlot(RobotError):
    """The source of a move (slot, drive, mail slot, bin) holds no disc."""

    hint = "check `odarchive robot inventory`; a disc may have been removed by hand"


class SlotFull(RobotError):
    """The destination of a move already holds a disc."""

    hint = "choose an empty slot (`odarchive robot inventory`) or unload that disc first"


class DriveNotReady(RobotError):
    """The drive did not report a usable medium in time (tray open, spinning up, faulty)."""

    hint = "wait a moment and retry; if it persists, `odarchive robot reset` or check the drive"


class MechanismFault(RobotError):
    """The picker or a tray failed to move; the changer refuses motion until it is reset."""

    hint = "clear the mechanism if needed, then run `odarchive robot reset`"


class Jam(MechanismFault):
    """A disc is stuck in the mechanism (a jam lasts until a reset)."""

    hint = "open the changer and clear the jam, then run `odarchive robot reset`"


class CommunicationError(RobotError):
    """The changer did not answer in time, answered garbage, or its port went away."""

    hint = "check the cable and the device path ([robot] device), then `odarchive robot reset`"


class CommunicationTimeout(CommunicationError):
    """No (complete) reply within the timeout, after the allowed retries."""


class GarbledReply(CommunicationError):
    """Replies that do not belong to the protocol, after the allowed retries."""


class UnreadableDisc(RobotError):
    """The medium in the drive cannot be read (damaged, blank where data was expected...)."""

    hint = "clean or check the disc; if it is a burned archive disc, burn it again from its image"


class WrongDisc(RobotError):
    """The medium in the drive is not the one asked for (its volume label differs)."""

    hint = "insert the disc whose label is shown, or unload the wrong one"


class BurnFailed(RobotError):
    """Writing an image to a medium failed or its read-back did not match."""

    hint = "the medium is rejected; run the same burn again to use another blank"


class NoBlankMedia(RobotError):
    """A burn needs a blank medium and the changer has none left."""

    hint = "put blank media into free slots (or the input bin) and run the burn again"
