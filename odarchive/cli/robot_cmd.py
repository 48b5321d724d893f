"""`odarchive robot status | inventory | load | unload | import | export | reset | simulate | burn`.

Drives the configured changer (`[robot]`, default: the simulator, started when needed). Disc
numbers shown in `inventory` come from the volume labels the changer reports or else from the
burn record (which disc was shelved in which slot).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from odarchive.cli.context import Context
from odarchive.cli.render import make_reporter, print_json


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="robot_action", metavar="ACTION", required=True)
    s = sub.add_parser("status", help="the changer, its drives and any pending request")
    s.add_argument("--json", action="store_true", help="print JSON")
    s = sub.add_parser("inventory", help="what every slot and drive holds")
    s.add_argument("--json", action="store_true", help="print JSON")
    s = sub.add_parser("load", help="load the disc in SLOT into a drive")
    s.add_argument("slot", type=int)
    s.add_argument("--drive", type=int, default=0)
    s.add_argument("--json", action="store_true", help="print JSON")
    s = sub.add_parser("unload", help="put the disc in a drive back into a slot")
    s.add_argument("--drive", type=int, default=0)
    s.add_argument("--slot", type=int, help="destination slot (default: the slot it came from)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s = sub.add_parser("import", help="take the disc in a mail slot into storage SLOT (e.g. new blanks)")
    s.add_argument("slot", type=int)
    s.add_argument("--mail", type=int, default=1, help="mail slot (default 1)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s = sub.add_parser("export", help="hand out the disc in storage SLOT through a mail slot")
    s.add_argument("slot", type=int)
    s.add_argument("--mail", type=int, default=1, help="mail slot (default 1)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s = sub.add_parser("reset", help="clear a fault (jam) and re-home the changer")
    s.add_argument("--json", action="store_true", help="print JSON")
    s = sub.add_parser("simulate", help="run the simulated changer (foreground), or poke it")
    s.add_argument("--background", action="store_true", help="start it in the background and return")
    s.add_argument("--stop", action="store_true", help="stop a running simulator")
    s.add_argument("--fault", action="append", metavar="TEXT",
                   help="arm a fault: jam | miss SLOT | notready DRIVE | unreadable SLOT | burnfail PCT [N] |"
                        " garble N | drop N | unplug SECONDS | clear")
    s.add_argument("--add-blanks", type=int, metavar="N", help="put N blank media into free slots")
    s.add_argument("--json", action="store_true", help="print JSON")
    s = sub.add_parser("burn", help="burn, verify and shelve discs (e.g. --segments 0-40)")
    s.add_argument("--segments", required=True, metavar="SPEC", help="0-40, 3,5,9-12 or all")
    s.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.robot_action == "simulate":
        return _simulate(args, ctx)
    if args.robot_action == "burn":
        from odarchive.jobs import exclusive

        # a burn builds images as needed: never alongside a create_iso on the same home
        with exclusive(ctx.home.jobs, "create_iso", "an image build (create_iso or robot burn)"):
            return _run(args, ctx)
    return _run(args, ctx)


def _run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.cli.robot_config import open_robot

    robot = open_robot(ctx, prompt=_prompt(ctx))
    try:
        if args.robot_action == "burn":
            from odarchive.cli.robot_burn import run_burn

            result = run_burn(ctx, robot, args.segments, make_reporter(args.json))
            text = (f"burned {len(result['burned'])} disc(s), skipped {len(result['skipped'])} already verified"
                    f"; rejected media so far: {len(result['rejected_media'])}")
            return _show(args, result, text)
        if args.robot_action == "inventory":
            return _inventory(args, ctx, robot)
        if args.robot_action == "status":
            return _status(args, ctx, robot)
        if args.robot_action == "load":
            robot.changer.load(args.slot, args.drive)
            return _show(args, {"loaded": args.slot, "drive": args.drive}, f"slot {args.slot} -> drive {args.drive}")
        if args.robot_action == "unload":
            came_from = robot.changer.inventory().drive(args.drive).loaded_from_slot if args.slot else None
            if args.drive in robot.drives:
                robot.drives[args.drive].eject()
            slot = robot.changer.unload(args.drive, args.slot)
            _moved(ctx, came_from, slot)
            return _show(args, {"unloaded": args.drive, "slot": slot}, f"drive {args.drive} -> slot {slot}")
        if args.robot_action == "import":
            robot.changer.import_disc(args.slot, args.mail)
            _moved(ctx, None, args.slot)
            return _show(args, {"imported": args.slot, "mail": args.mail}, f"mail slot {args.mail} -> slot {args.slot}")
        if args.robot_action == "export":
            robot.changer.export_disc(args.slot, args.mail)
            _moved(ctx, args.slot, None)
            return _show(args, {"exported": args.slot, "mail": args.mail}, f"slot {args.slot} -> mail slot {args.mail}")
        robot.changer.reset()
        return _show(args, {"reset": True}, "changer reset")
    finally:
        robot.close()


def _moved(ctx: Context, old: int | None, new: int | None) -> None:
    """Keep the burn record true when discs are moved with these commands: a burned disc
    follows its medium; a slot that receives a new medium no longer holds a rejected one."""
    if old == new or not ctx.home.catalogue.exists():
        return
    from odarchive.burnlog import BurnLog

    with ctx.open_catalogue() as cat:
        BurnLog(cat).moved(old, new)


def _show(args: argparse.Namespace, obj: dict[str, Any], text: str) -> int:
    if args.json:
        print_json(obj)
    else:
        print(text)
    return 0


def _prompt(ctx: Context) -> Any:
    """The manual driver's requests: on the terminal and in <home>/robot/request for `status`."""
    request = ctx.home.robot_state / "request"

    def prompt(text: str | None) -> None:
        if text is None:
            request.unlink(missing_ok=True)
            return
        request.parent.mkdir(parents=True, exist_ok=True)
        request.write_text(text + "\n")
        sys.stderr.write(f"odarchive: {text}\n")
        sys.stderr.flush()

    return prompt


def inventory_json(ctx: Context, inventory: Any) -> dict[str, Any]:
    from odarchive.cli.robot_config import disc_from_label

    by_slot, plan_labels = _burn_record(ctx)

    def disc(label: str | None, slot: int | None) -> int | None:
        found = disc_from_label(label, plan_labels)
        return found if found is not None else by_slot.get(slot) if slot is not None else None

    return {
        "slots": [{"slot": s.slot, "state": s.state, "disc": disc(s.label, s.slot) if s.occupied else None,
                   "label": s.label, "kind": s.kind, **({"name": s.name} if s.name else {})} for s in inventory.slots],
        "drives": [{"drive": d.drive, "state": d.state, "disc": disc(d.label, d.loaded_from_slot) if d.state == "loaded" else None,
                    "label": d.label, "loaded_from_slot": d.loaded_from_slot, "medium": d.medium} for d in inventory.drives],
        "mail": [{"slot": s.slot, "state": s.state, "label": s.label} for s in inventory.mail],
    }


def _burn_record(ctx: Context) -> tuple[dict[int, int], set[str]]:
    """(slot -> disc of shelved discs, the plan labels of this catalogue)."""
    if not ctx.home.catalogue.exists():
        return {}, set()
    from odarchive.burnlog import BurnLog

    with ctx.open_catalogue() as cat:
        log = BurnLog(cat)
        return log.disc_by_slot(), log.plan_labels()


def _inventory(args: argparse.Namespace, ctx: Context, robot: Any) -> int:
    inv = inventory_json(ctx, robot.changer.inventory())
    if args.json:
        print_json(inv)
        return 0
    for d in inv["drives"]:
        what = f"disc {d['disc']}" if d["disc"] is not None else (d["medium"] or "")
        src = f" (from slot {d['loaded_from_slot']})" if d["loaded_from_slot"] else ""
        print(f"drive {d['drive']}: {d['state']} {what}{src}".rstrip())
    for s in inv["slots"]:
        if s["state"] != "empty":
            what = f" disc {s['disc']}" if s["disc"] is not None else ""
            print(f"slot {s['slot']}: {s['state']}{what}{' ' + s['label'] if s['label'] else ''}")
    for m in inv["mail"]:
        print(f"mail slot {m['slot']}: {m['state']}")
    empty = sum(1 for s in inv["slots"] if s["state"] == "empty")
    print(f"{len(inv['slots'])} slots, {empty} empty")
    return 0


def _status(args: argparse.Namespace, ctx: Context, robot: Any) -> int:
    from collections import Counter

    conf = robot.config
    inv = robot.changer.inventory()
    request = ctx.home.robot_state / "request"
    status = {
        "driver": conf.driver,
        "device": robot.sim_info["tty"] if robot.sim_info else conf.device,
        "simulator_pid": robot.sim_info["pid"] if robot.sim_info else None,
        "slots": dict(Counter(s.state for s in inv.slots)),
        "drives": [{"drive": d.drive, "state": d.state, "loaded_from_slot": d.loaded_from_slot,
                    "device": robot.drives[d.drive].name if d.drive in robot.drives else None} for d in inv.drives],
        "request": request.read_text().strip() if conf.driver == "manual" and request.exists() else None,
    }
    if args.json:
        print_json(status)
        return 0
    print(f"driver {status['driver']} on {status['device']}" + (f" (simulator pid {status['simulator_pid']})" if status["simulator_pid"] else ""))
    print("slots: " + ", ".join(f"{n} {state}" for state, n in sorted(status["slots"].items())))
    for d in status["drives"]:
        src = f" from slot {d['loaded_from_slot']}" if d["loaded_from_slot"] else ""
        print(f"drive {d['drive']} ({d['device']}): {d['state']}{src}")
    if status["request"]:
        print(f"waiting for you: {status['request']}")
    return 0


def _simulate(args: argparse.Namespace, ctx: Context) -> int:
    from pathlib import Path

    from robot_drivers.simulator import control
    from robot_drivers.simulator.faults import apply_fault
    from robot_drivers.simulator.mechanism import Mechanism

    from odarchive.cli.robot_config import ensure_simulator, robot_config, sim_config

    state: Path = ctx.home.robot_state
    config = sim_config(ctx)
    if args.stop:
        stopped = control.stop(state)
        return _show(args, {"stopped": stopped}, "simulator stopped" if stopped else "no simulator was running")
    if args.fault or args.add_blanks:
        mech = Mechanism(state, Mechanism.stored_config(state) or config)
        done: list[str] = []
        for text in args.fault or []:
            with mech.store.locked() as st:
                done.append(apply_fault(st, text))
        if args.add_blanks:
            done.append(f"added {mech.add_media(args.add_blanks, 'input' if config.dialect == 'generic' else 'slots')} blank(s)")
        return _show(args, {"done": done}, "\n".join(done))
    if args.background:
        info = ensure_simulator(ctx, robot_config(ctx))
        return _show(args, info, f"simulator pid {info['pid']} on {info['tty']} ({info['dialect']} dialect)")
    from robot_drivers.simulator.server import PtyServer

    control.stop(state)
    server = PtyServer(state, config)
    sys.stderr.write(f"odarchive: simulated changer on {state / 'tty'} ({config.dialect} dialect, speed {config.speed}); Ctrl-C stops\n")
    server.serve()
    return 0
