"""Parse the output of `mtx status` into an `Inventory`.

Shapes handled (mtx 1.2/1.3, see tests/data/mtx/): the "Storage Changer DEV:N Drives, M Slots
( K Import/Export )" header; "Data Transfer Element N:Empty" or "...:Full (Storage Element S
Loaded)" / "Full (Unknown Storage Element Loaded)", optionally ":VolumeTag = TAG" and
":AlternateVolumeTag = TAG"; "Storage Element N:Empty|Full " with optional ":VolumeTag=TAG",
where import/export elements are marked " IMPORT/EXPORT" and share the storage numbering.
Volume tags are padded with spaces (stripped here). Unknown lines are ignored.
"""

from __future__ import annotations

import re

from robot_drivers import errors
from robot_drivers.interfaces import (
    DRIVE_EMPTY,
    DRIVE_LOADED,
    EMPTY,
    FULL,
    SLOT_KIND_MAIL,
    DriveInfo,
    Inventory,
    SlotInfo,
)

_TAGS = r"\s*(?::VolumeTag\s*=\s*(?P<tag>[^:]*?))?\s*(?::AlternateVolumeTag\s*=\s*[^:]*?)?\s*$"
HEADER = re.compile(
    r"^\s*Storage Changer (?P<dev>.*):(?P<drives>\d+) Drives, (?P<slots>\d+) Slots \( (?P<ie>\d+) Import/Export \)"
)
DRIVE = re.compile(
    r"^\s*Data Transfer Element (?P<n>\d+):(?P<state>Empty|Full)"
    r"(?: \((?:Storage Element (?P<src>\d+)|Unknown Storage Element) Loaded\))?" + _TAGS
)
STORAGE = re.compile(r"^\s*Storage Element (?P<n>\d+)(?P<ie> IMPORT/EXPORT)?:(?P<state>Empty|Full)" + _TAGS)


def parse_status(text: str) -> Inventory:
    """The inventory in `mtx status` output; CommunicationError if it is not such output."""
    slots: list[SlotInfo] = []
    mail: list[SlotInfo] = []
    drives: list[DriveInfo] = []
    header = False
    for line in text.splitlines():
        if HEADER.match(line):
            header = True
        elif m := DRIVE.match(line):
            full = m["state"] == "Full"
            drives.append(
                DriveInfo(
                    drive=int(m["n"]),
                    state=DRIVE_LOADED if full else DRIVE_EMPTY,
                    loaded_from_slot=int(m["src"]) if m["src"] else None,
                    label=(m["tag"] or "").strip() or None,
                    medium=FULL if full else None,
                )
            )
        elif m := STORAGE.match(line):
            info = SlotInfo(
                slot=int(m["n"]),
                state=FULL if m["state"] == "Full" else EMPTY,
                label=(m["tag"] or "").strip() or None,
                kind=SLOT_KIND_MAIL if m["ie"] else "storage",
            )
            (mail if m["ie"] else slots).append(info)
    if not header:
        raise errors.GarbledReply(
            '`mtx status` printed no "Storage Changer" header',
            hint="check [robot] device (a SCSI generic device such as /dev/sg3) with `mtx -f DEV status`",
        )
    return Inventory(slots=tuple(slots), drives=tuple(drives), mail=tuple(mail))


def classify_failure(stderr: str, command: str) -> errors.RobotError:
    """The RobotError for a failed mtx command, from what mtx printed."""
    text = " ".join(line.strip() for line in stderr.splitlines() if line.strip())
    last = stderr.strip().splitlines()[-1] if stderr.strip() else "no message"
    message = f"`{command}` failed: {last}"
    if "is Empty" in text or "No Source for tape" in text:
        return errors.EmptySlot(message)
    if "Already Full" in text or re.search(r"Drive \d+ Full", text):
        return errors.SlotFull(message)
    if re.search(r"Invalid|illegal|No source specified|No destination specified", text):
        return errors.BadAddress(message)
    if "Sense Key=Not Ready" in text:
        return errors.DriveNotReady(message)
    if "Sense Key=Hardware Error" in text or "MOVE MEDIUM" in text:
        return errors.MechanismFault(message)
    if re.search(r"cannot open|No such file|Permission denied|Inappropriate ioctl", text, re.I):
        return errors.CommunicationError(
            message, hint="check [robot] device and that you may open it (udev rules, group `cdrom`/`tape`)"
        )
    return errors.MechanismFault(message)
