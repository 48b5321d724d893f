"""An `mtx`-compatible command on the simulated changer, so the mtx driver runs unchanged.

    python -m robot_drivers.simulator.mtx_front -f STATE_DIR status | inventory |
        load SLOT [DRIVE] | unload [SLOT] [DRIVE] | transfer SRC DST   (several per line)

Output and messages follow mtx 1.3: `status` prints the "Storage Changer" header, the Data
Transfer Elements and the Storage Elements (import/export ones numbered after the storage
slots and marked IMPORT/EXPORT), volume tags padded to 36 columns; failures print request
sense lines and exit 1. Motions take the simulated time (divided by the speed factor, which
`ODARCHIVE_SIM_SPEED` overrides). Faults from the shared state apply (`jam`, `miss`, ...).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import Any

from robot_drivers import errors
from robot_drivers.simulator.config import SimConfig
from robot_drivers.simulator.mechanism import Mechanism

TAG_WIDTH = 36
STORAGE_BASE = 1000  # SCSI element address of slot 1
DRIVE_BASE = 500
IE_BASE = 10


class MtxFailure(Exception):
    """mtx's FatalError: the message goes to stderr and mtx exits 1."""


def status_text(st: dict[str, Any], device: str) -> str:
    slots, mail = st["slots"], st["mail"]
    lines = [
        f"  Storage Changer {device}:{len(st['drives'])} Drives, {len(slots) + len(mail)} Slots ( {len(mail)} Import/Export )"
    ]
    for n, d in enumerate(st["drives"]):
        if d["medium"] is None:
            lines.append(f"Data Transfer Element {n}:Empty")
            continue
        src = f"Storage Element {d['from']} Loaded" if d["from"] else "Unknown Storage Element Loaded"
        lines.append(f"Data Transfer Element {n}:Full ({src}){_tag(st, d['medium'], ':VolumeTag = ')}")
    for n, medium in enumerate(slots + mail, start=1):
        ie = " IMPORT/EXPORT" if n > len(slots) else ""
        full = "Full " if medium is not None else "Empty"
        lines.append(f"      Storage Element {n}{ie}:{full}{_tag(st, medium, ':VolumeTag=')}")
    return "\n".join(lines) + "\n"


def _tag(st: dict[str, Any], medium: str | None, prefix: str) -> str:
    label = st["media"][medium]["label"] if medium is not None else None
    return f"{prefix}{label:<{TAG_WIDTH}}" if label else ""


def _sense(key: str, asc: int, ascq: int) -> str:
    return "".join(
        f"mtx: Request Sense: {line}\n"
        for line in (
            "Long Report=yes",
            "Valid Residual=no",
            "Error Code=70 (Current)",
            f"Sense Key={key}",
            "FileMark=no",
            "EOM=no",
            "ILI=no",
            f"Additional Sense Code = {asc:02X}",
            f"Additional Sense Qual = {ascq:02X}",
            "BPV=no",
            "Error in CDB=no",
            "SKSV=no",
        )
    )


def _move(mech: Mechanism, st: dict[str, Any], src: int, dst: int, op: Any) -> None:
    """Run one simulated motion; translate its error as mtx's Move() reports it."""
    try:
        duration = op()
    except errors.EmptySlot:
        raise MtxFailure(f"Source Element Address {src} is Empty\n") from None
    except errors.SlotFull:
        raise MtxFailure(f"Destination Element Address {dst} is Already Full\n") from None
    except errors.DriveNotReady:
        raise MtxFailure(
            _sense("Not Ready", 0x04, 0x01) + f"MOVE MEDIUM from Element Address {src} to {dst} Failed\n"
        ) from None
    except errors.RobotError:
        raise MtxFailure(
            _sense("Hardware Error", 0x15, 0x01) + f"MOVE MEDIUM from Element Address {src} to {dst} Failed\n"
        ) from None
    time.sleep(duration)


def _address(st: dict[str, Any], element: int) -> int:
    return STORAGE_BASE + element - 1 if element <= len(st["slots"]) else IE_BASE + element - len(st["slots"]) - 1


def run_command(mech: Mechanism, name: str, args: list[int], device: str, out: Any) -> None:
    st = mech.snapshot()
    nslots, nmail, ndrives = len(st["slots"]), len(st["mail"]), len(st["drives"])
    if name == "status":
        out.write(status_text(st, device))
    elif name == "inventory":
        mech.reset()  # an inventory re-reads every element; it also clears a sensor miss
    elif name == "load":
        if not args:
            raise MtxFailure("No source specified\n")
        slot, drive = args[0], args[1] if len(args) > 1 else 0
        if not 1 <= slot <= nslots:
            raise MtxFailure(f"Invalid <storage-element-number> argument '{slot}' to 'load' command\n")
        if not 0 <= drive < ndrives:
            raise MtxFailure(f"illegal <drive-number> argument '{drive}' to 'load' command\n")
        if st["drives"][drive]["medium"] is not None:
            raise MtxFailure(f"Drive {drive} Full (Storage Element {st['drives'][drive]['from']} loaded)\n")
        out.write(f"Loading media from Storage Element {slot} into drive {drive}...")
        out.flush()
        _move(mech, st, _address(st, slot), DRIVE_BASE + drive, lambda: mech.load(slot, drive))
        out.write("done\n")
    elif name == "unload":
        into = args[0] if args else None
        drive = args[1] if len(args) > 1 else 0
        if not 0 <= drive < ndrives:
            raise MtxFailure(f"illegal <drive-number> argument '{drive}' to 'unload' command\n")
        d = st["drives"][drive]
        if d["medium"] is None:
            raise MtxFailure(f"Data Transfer Element {drive} is Empty\n")
        into = into or d["from"]
        if into is None:
            raise MtxFailure(f"No Source for tape in drive {drive}!\n")
        if not 1 <= into <= nslots:
            raise MtxFailure(f"illegal <storage-element-number> argument '{into}' to 'unload' command\n")
        if st["slots"][into - 1] is not None:
            raise MtxFailure(f"Storage Element {into} is Already Full\n")
        out.write(f"Unloading drive {drive} into Storage Element {into}...")
        out.flush()
        _move(mech, st, DRIVE_BASE + drive, _address(st, into), lambda: mech.unload(drive, into)[1])
        out.write("done\n")
    elif name == "transfer":
        if len(args) < 2:
            raise MtxFailure("No destination specified\n" if args else "No source specified\n")
        src, dst = args[0], args[1]
        for n, what in ((src, "source"), (dst, "destination")):
            if not 1 <= n <= nslots + nmail:
                raise MtxFailure(f"Invalid {what}\n")
        if src > nslots and dst > nslots:
            raise MtxFailure("Invalid destination\n")
        if src > nslots:
            op = lambda: mech.import_disc(src - nslots, dst)  # noqa: E731
        elif dst > nslots:
            op = lambda: mech.export_disc(src, dst - nslots)  # noqa: E731
        else:
            op = lambda: mech.transfer(src, dst)  # noqa: E731
        _move(mech, st, _address(st, src), _address(st, dst), op)
    else:
        raise MtxFailure(f"Unknown command '{name}'\n")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 2 or argv[0] != "-f":
        sys.stderr.write("Usage: mtx -f DEVICE command [args] ...\n")
        return 1
    device, rest = argv[1], argv[2:]
    root = Path(device)
    config = Mechanism.stored_config(root) or SimConfig()
    if os.environ.get("ODARCHIVE_SIM_SPEED"):
        config = dataclasses.replace(config, speed=float(os.environ["ODARCHIVE_SIM_SPEED"]))
    mech = Mechanism(root, config)
    i = 0
    try:
        while i < len(rest):
            name, i = rest[i], i + 1
            args = []
            while i < len(rest) and rest[i].isdigit():
                args.append(int(rest[i]))
                i += 1
            run_command(mech, name, args, device, sys.stdout)
            sys.stdout.flush()
    except MtxFailure as e:
        sys.stdout.write("\n" if rest else "")
        sys.stdout.flush()
        text = str(e)  # sense lines carry their own prefix; the final message gets mtx's
        head, _, last = text.rstrip("\n").rpartition("\n")
        sys.stderr.write((head + "\n" if head else "") + f"mtx: {last}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
