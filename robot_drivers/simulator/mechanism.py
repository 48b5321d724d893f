"""The simulated mechanism: moves media between slots, drives, mail slots and bins.

Each motion checks its addresses and faults, changes the persistent state (`state.py`) and
returns how long it takes (already divided by the speed factor); the dialect servers wait that
long before they report completion. A disc is never lost: a failed motion leaves it where it
was. Loading a medium into a drive puts its bytes at the pseudo-drive path and writes the
drive's sidecar (what the drive reports: ready time, unreadable, defect for a failing burn);
unloading takes back what was burned and labels the medium from its volume descriptor.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from robot_drivers import errors
from robot_drivers.simulator.config import SimConfig
from robot_drivers.simulator.faults import apply_fault
from robot_drivers.simulator.state import StateStore
from robot_drivers.volume_label import file_volume_label


class Mechanism:
    """The changer model on top of a `StateStore`; safe to use from several processes."""

    def __init__(self, root: Path, config: SimConfig) -> None:
        self.config = config
        self.store = StateStore(root, config)
        with self.store.locked() as state:  # create the state now, not at the first command
            if "initial_faults" not in state:  # a new state: apply the configured faults once
                state["initial_faults"] = list(_fault_list(config.faults))
                for text in state["initial_faults"]:
                    apply_fault(state, text)

    @staticmethod
    def stored_config(root: Path) -> SimConfig | None:
        """The configuration an existing state directory was created with."""
        if not (Path(root) / "state.json").exists():
            return None
        return StateStore(Path(root), SimConfig()).stored_config()

    # ---- motions ------------------------------------------------------------------------

    def load(self, slot: int, drive: int) -> float:
        with self.store.locked() as st:
            self._check_motion(st, f"load slot {slot} into drive {drive}")
            self._check_slot(st, slot)
            d = self._drive(st, drive)
            missed = slot in st["faults"]["miss"]
            if missed:  # consumed: the state is written back only when the block ends without error
                st["faults"]["miss"].remove(slot)
            else:
                if st["slots"][slot - 1] is None:
                    raise errors.EmptySlot(f"slot {slot} is empty")
                if d["medium"] is not None:
                    raise _coded(errors.SlotFull(f"drive {drive} already holds a disc (from slot {d['from']})"), "E13")
                if drive in st["faults"]["not_ready"]:
                    raise errors.DriveNotReady(f"drive {drive} is not ready: its tray did not open")
                medium = st["slots"][slot - 1]
                st["slots"][slot - 1] = None
                self._insert(st, drive, medium, slot)
        if missed:  # one miss, as documented: the next load of the slot works
            raise errors.EmptySlot(f"the picker found slot {slot} empty (sensor miss); the disc stays in slot {slot}")
        return self.config.seconds("load_s")

    def unload(self, drive: int, slot: int | None) -> tuple[int, float]:
        with self.store.locked() as st:
            self._check_motion(st, f"unload drive {drive}")
            d = self._drive(st, drive)
            if d["medium"] is None:
                raise _coded(errors.EmptySlot(f"drive {drive} is empty"), "E12")
            target = slot or d["from"]
            self._check_slot(st, target)
            if st["slots"][target - 1] is not None:
                raise errors.SlotFull(f"slot {target} is occupied")
            st["slots"][target - 1] = self._remove(st, drive)
        return target, self.config.seconds("unload_s")

    def transfer(self, source: int, dest: int) -> float:
        with self.store.locked() as st:
            self._check_motion(st, f"transfer slot {source} to slot {dest}")
            self._check_slot(st, source)
            self._check_slot(st, dest)
            if st["slots"][source - 1] is None:
                raise errors.EmptySlot(f"slot {source} is empty")
            if st["slots"][dest - 1] is not None:
                raise errors.SlotFull(f"slot {dest} is occupied")
            st["slots"][dest - 1], st["slots"][source - 1] = st["slots"][source - 1], None
        return self.config.seconds("transfer_s")

    def import_disc(self, mail: int, slot: int) -> float:
        with self.store.locked() as st:
            self._check_motion(st, f"import mail slot {mail} to slot {slot}")
            self._check_mail(st, mail)
            self._check_slot(st, slot)
            if st["mail"][mail - 1] is None:
                raise _coded(
                    errors.EmptySlot(f"mail slot {mail} is empty", hint="put a disc into the mail slot first"), "E40"
                )
            if st["slots"][slot - 1] is not None:
                raise errors.SlotFull(f"slot {slot} is occupied")
            st["slots"][slot - 1], st["mail"][mail - 1] = st["mail"][mail - 1], None
        return self.config.seconds("mail_s")

    def export_disc(self, slot: int, mail: int) -> float:
        with self.store.locked() as st:
            self._check_motion(st, f"export slot {slot} to mail slot {mail}")
            self._check_mail(st, mail)
            self._check_slot(st, slot)
            if st["slots"][slot - 1] is None:
                raise errors.EmptySlot(f"slot {slot} is empty")
            if st["mail"][mail - 1] is not None:
                raise _coded(
                    errors.SlotFull(f"mail slot {mail} is occupied", hint="take the disc out of the mail slot"), "E41"
                )
            st["mail"][mail - 1], st["slots"][slot - 1] = st["slots"][slot - 1], None
        return self.config.seconds("mail_s")

    def reset(self) -> float:
        """Clear mechanical faults; a disc held by the picker goes back to the input bin."""
        with self.store.locked() as st:
            f = st["faults"]
            f["jammed"], f["jam_after"], f["miss"], f["not_ready"] = False, None, [], []
            if st["picker"] is not None:
                st["bins"]["input"].insert(0, st["picker"])
                st["picker"] = None
            for n, d in enumerate(st["drives"]):
                if d["medium"] is not None:
                    self._write_sidecar(st, n, d["medium"])
        return self.config.seconds("reset_s")

    # ---- bins (generic autoloaders: one drive, input/output/reject bins) ---------------------

    def bin_input_to_drive(self) -> float:
        with self.store.locked() as st:
            self._check_motion(st, "input bin to drive")
            if not st["bins"]["input"]:
                raise errors.EmptySlot("the input bin is empty")
            if st["drives"][0]["medium"] is not None:
                raise errors.SlotFull("the drive already holds a disc")
            self._insert(st, 0, st["bins"]["input"].pop(0), None)
        return self.config.seconds("load_s")

    def bin_drive_to(self, where: str) -> float:
        """Drive -> "output" bin, or drive -> "picker" (held until `bin_reject`)."""
        with self.store.locked() as st:
            self._check_motion(st, f"drive to {where}")
            if st["drives"][0]["medium"] is None:
                raise errors.EmptySlot("the drive is empty")
            if where == "picker" and st["picker"] is not None:
                raise errors.SlotFull("the picker already holds a disc")
            medium = self._remove(st, 0)
            if where == "picker":
                st["picker"] = medium
            else:
                st["bins"]["output"].append(medium)
        return self.config.seconds("unload_s")

    def bin_reject(self) -> float:
        """The disc in the picker (or else in the drive) goes to the reject bin."""
        with self.store.locked() as st:
            self._check_motion(st, "reject")
            if st["picker"] is not None:
                medium, st["picker"] = st["picker"], None
            elif st["drives"][0]["medium"] is not None:
                medium = self._remove(st, 0)
            else:
                raise errors.EmptySlot("neither the picker nor the drive holds a disc")
            st["bins"]["reject"].append(medium)
        return self.config.seconds("unload_s")

    # ---- queries -----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The whole state, read-only (for status replies and the mtx front end)."""
        return self.store.read()

    def medium_letter(self, st: dict[str, Any], medium: str | None) -> str:
        if medium is None:
            return "E"
        return "B" if st["media"][medium]["blank"] else "R"

    def add_media(self, count: int, where: str = "slots") -> int:
        """Put `count` new blanks into free slots (or the input bin); returns how many fit."""
        with self.store.locked() as st:
            added = 0
            for _ in range(count):
                mid = str(st["next_id"])
                if where == "input":
                    st["bins"]["input"].append(mid)
                else:
                    try:
                        free = st["slots"].index(None)
                    except ValueError:
                        break
                    st["slots"][free] = mid
                st["media"][mid] = {"blank": True, "label": None, "unreadable": False}
                st["next_id"] += 1
                added += 1
            return added

    # ---- helpers -----------------------------------------------------------------------------

    def _check_motion(self, st: dict[str, Any], what: str) -> None:
        f = st["faults"]
        if f["jammed"]:
            raise errors.Jam(f"the changer is jammed and refuses to {what}")
        if f["jam_after"] is not None:
            if f["jam_after"] > 0:
                f["jam_after"] -= 1
                return
            f["jam_after"], f["jammed"] = None, True
            raise errors.Jam(f"the picker jammed trying to {what}; every disc stays where it was")

    def _check_slot(self, st: dict[str, Any], slot: int) -> None:
        if not 1 <= slot <= len(st["slots"]):
            raise errors.BadAddress(f"no slot {slot} (this changer has slots 1..{len(st['slots'])})")

    def _check_mail(self, st: dict[str, Any], mail: int) -> None:
        if not 1 <= mail <= len(st["mail"]):
            raise errors.BadAddress(f"no mail slot {mail} (this changer has {len(st['mail'])})")

    def _drive(self, st: dict[str, Any], drive: int) -> dict[str, Any]:
        if not 0 <= drive < len(st["drives"]):
            raise errors.BadAddress(f"no drive {drive} (this changer has drives 0..{len(st['drives']) - 1})")
        return st["drives"][drive]

    def _insert(self, st: dict[str, Any], drive: int, medium: str, slot: int | None) -> None:
        target = self.store.drive_file(drive)
        source = self.store.medium_file(medium)
        if source.exists():
            os.replace(source, target)
        else:
            target.write_bytes(b"")
        st["drives"][drive] = {"medium": medium, "from": slot}
        burnfail = st["faults"]["burnfail"]
        if burnfail and st["media"][medium]["blank"]:
            st["media"][medium]["fail_at_percent"] = burnfail[0]
            burnfail[1] -= 1
            if burnfail[1] <= 0:
                st["faults"]["burnfail"] = None
        self._write_sidecar(st, drive, medium)

    def _remove(self, st: dict[str, Any], drive: int) -> str:
        medium = st["drives"][drive]["medium"]
        target = self.store.drive_file(drive)
        info = st["media"][medium]
        info.pop("fail_at_percent", None)
        if target.exists() and target.stat().st_size > 0:
            info["blank"] = False
            info["label"] = file_volume_label(str(target))
            os.replace(target, self.store.medium_file(medium))
        else:
            target.unlink(missing_ok=True)
        self.store.drive_sidecar(drive).write_text(json.dumps({"present": False}))
        st["drives"][drive] = {"medium": None, "from": None}
        return medium

    def _write_sidecar(self, st: dict[str, Any], drive: int, medium: str) -> None:
        info = st["media"][medium]
        sidecar = {
            "present": True,
            "ready_at": time.time() + self.config.seconds("spinup_s"),
            "unreadable": bool(info.get("unreadable")),
            "bad_sectors": info.get("bad_sectors", []),
            "fail_at_percent": info.get("fail_at_percent"),
            "capacity_bytes": self.config.capacity_bytes,
            "write_bytes_per_s": self.config.write_bytes_per_s * self.config.speed,
            "read_bytes_per_s": self.config.read_bytes_per_s * self.config.speed,
            "medium": medium,
        }
        self.store.drive_sidecar(drive).write_text(json.dumps(sidecar))


def _fault_list(faults: Any) -> tuple[str, ...]:
    if isinstance(faults, str):
        return tuple(f.strip() for f in faults.split(";") if f.strip())
    return tuple(faults or ())


def _coded(error: errors.RobotError, code: str) -> errors.RobotError:
    """Attach the slot-dialect code for errors that share a class (drive vs. slot)."""
    error.code = code  # type: ignore[attr-defined]
    return error
