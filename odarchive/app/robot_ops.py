"""The robot's actions as the archive knows them: moves that keep the burn record true, the
inventory with disc numbers, the status summary, the manual driver's prompt, the simulator.

Disc numbers in the inventory come from the volume labels the changer reports or else from
the burn record (which disc was shelved in which slot). `odarchive robot ...` renders what
these return.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from odarchive.app.context import Context
from odarchive.app.robot_config import Robot, disc_from_label, ensure_simulator, robot_config, sim_config
from odarchive.shown import printable


def unload(ctx: Context, robot: Robot, drive: int, slot: int | None) -> int:
    """Eject and put the medium in `drive` back (into `slot`, default where it came from)."""
    came_from = robot.changer.inventory().drive(drive).loaded_from_slot if slot else None
    if drive in robot.drives:
        robot.drives[drive].eject()
    dest = robot.changer.unload(drive, slot)
    moved(ctx, came_from, dest)
    return dest


def import_disc(ctx: Context, robot: Robot, slot: int, mail: int) -> None:
    robot.changer.import_disc(slot, mail)
    moved(ctx, None, slot)


def export_disc(ctx: Context, robot: Robot, slot: int, mail: int, location: str | None = None) -> None:
    """Hand out the disc in `slot`; the catalogue keeps `location` (where a person puts it)."""
    robot.changer.export_disc(slot, mail)
    moved(ctx, slot, None, location)


def moved(ctx: Context, old: int | None, new: int | None, location: str | None = None) -> None:
    """Keep the burn record true when discs are moved with these commands: a burned disc
    follows its medium; a slot that receives a new medium no longer holds a rejected one."""
    if old == new or not ctx.home.catalogue.exists():
        return
    from odarchive.burnlog import BurnLog

    with ctx.open_catalogue() as cat:
        BurnLog(cat).moved(old, new, location)


def manual_prompt(ctx: Context) -> Callable[[str | None], None]:
    """The manual driver's requests: on the terminal and in <home>/robot/request for `status`."""
    request = ctx.home.robot_state / "request"

    def prompt(text: str | None) -> None:
        if text is None:
            request.unlink(missing_ok=True)
            return
        request.parent.mkdir(parents=True, exist_ok=True)
        request.write_text(text + "\n")
        sys.stderr.write(f"odarchive: {printable(text)}\n")
        sys.stderr.flush()

    return prompt


def inventory_json(ctx: Context, inventory: Any) -> dict[str, Any]:
    by_slot, plan_labels = _burn_record(ctx)

    def disc(label: str | None, slot: int | None) -> int | None:
        found = disc_from_label(label, plan_labels)
        return found if found is not None else by_slot.get(slot) if slot is not None else None

    return {
        "slots": [
            {
                "slot": s.slot,
                "state": s.state,
                "disc": disc(s.label, s.slot) if s.occupied else None,
                "label": s.label,
                "kind": s.kind,
                **({"name": s.name} if s.name else {}),
            }
            for s in inventory.slots
        ],
        "drives": [
            {
                "drive": d.drive,
                "state": d.state,
                "disc": disc(d.label, d.loaded_from_slot) if d.state == "loaded" else None,
                "label": d.label,
                "loaded_from_slot": d.loaded_from_slot,
                "medium": d.medium,
            }
            for d in inventory.drives
        ],
        "mail": [{"slot": s.slot, "state": s.state, "label": s.label} for s in inventory.mail],
    }


def _burn_record(ctx: Context) -> tuple[dict[int, int], set[str]]:
    """(slot -> disc of shelved discs, the plan labels of this catalogue)."""
    if not ctx.home.catalogue.exists():
        return {}, set()
    from odarchive.burnlog import BurnLog

    with ctx.open_catalogue(readonly=True) as cat:
        log = BurnLog(cat)
        return log.disc_by_slot(), log.plan_labels()


def robot_status(ctx: Context, robot: Robot) -> dict[str, Any]:
    """The driver, its device, slots counted by state, the drives, a pending manual request."""
    conf = robot.config
    inv = robot.changer.inventory()
    request = ctx.home.robot_state / "request"
    return {
        "driver": conf.driver,
        "device": robot.sim_info["tty"] if robot.sim_info else conf.device,
        "simulator_pid": robot.sim_info["pid"] if robot.sim_info else None,
        "slots": dict(Counter(s.state for s in inv.slots)),
        "drives": [
            {
                "drive": d.drive,
                "state": d.state,
                "loaded_from_slot": d.loaded_from_slot,
                "device": robot.drives[d.drive].name if d.drive in robot.drives else None,
            }
            for d in inv.drives
        ],
        "request": request.read_text().strip() if conf.driver == "manual" and request.exists() else None,
    }


def stop_simulator(ctx: Context) -> bool:
    """Stop the simulator, and first the archive service that drives it (if one runs)."""
    from odarchive.app.service.client import stop_service
    from robot_drivers.simulator import control

    stop_service(ctx.home, force=True)
    return control.stop(ctx.home.robot_state)


def poke_simulator(ctx: Context, faults: list[str], add_blanks: int) -> list[str]:
    """Arm faults and add blank media in this home's simulator; what was done, one line each."""
    from robot_drivers.simulator.faults import apply_fault
    from robot_drivers.simulator.mechanism import Mechanism

    state: Path = ctx.home.robot_state
    config = sim_config(ctx)
    mech = Mechanism(state, Mechanism.stored_config(state) or config)
    done: list[str] = []
    for text in faults:
        with mech.store.locked() as st:
            done.append(apply_fault(st, text))
    if add_blanks:
        done.append(f"added {mech.add_media(add_blanks, 'input' if config.dialect == 'generic' else 'slots')} blank(s)")
    return done


def background_simulator(ctx: Context) -> dict[str, Any]:
    return ensure_simulator(ctx, robot_config(ctx))


def serve_simulator(ctx: Context, announce: Callable[[str], None]) -> None:
    """Run this home's simulator in this process (replacing a background one) until stopped."""
    from robot_drivers.simulator import control
    from robot_drivers.simulator.server import PtyServer

    state: Path = ctx.home.robot_state
    config = sim_config(ctx)
    control.stop(state)
    server = PtyServer(state, config)
    announce(f"simulated changer on {state / 'tty'} ({config.dialect} dialect, speed {config.speed}); Ctrl-C stops")
    server.serve()
