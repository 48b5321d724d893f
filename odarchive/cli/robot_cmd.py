"""`odarchive robot status | inventory | load | unload | import | export | reset | simulate | burn`.

Every action except `simulate` goes through the archive service that owns the robot
(`odarchive.app.service`; started in the background when none runs, and said so), so they
work while the archive is mounted or a burn runs. This module parses the arguments and
renders the results.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING

from odarchive.app.context import Context
from odarchive.cli.json_flag import JSON
from odarchive.cli.render import announce, make_reporter, print_json, say

if TYPE_CHECKING:
    from odarchive.app.service.client import Reply, ServiceClient


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="robot_action", metavar="ACTION", required=True)
    sub.add_parser("status", parents=[JSON], help="the changer, its drives and any pending request")
    sub.add_parser("inventory", parents=[JSON], help="what every slot and drive holds")
    s = sub.add_parser("load", parents=[JSON], help="load the disc in SLOT into a drive")
    s.add_argument("slot", type=int)
    s.add_argument("--drive", type=int, default=0)
    s = sub.add_parser("unload", parents=[JSON], help="put the disc in a drive back into a slot")
    s.add_argument("--drive", type=int, default=0)
    s.add_argument("--slot", type=int, help="destination slot (default: the slot it came from)")
    s = sub.add_parser(
        "import", parents=[JSON], help="take the disc in a mail slot into storage SLOT (e.g. new blanks)"
    )
    s.add_argument("slot", type=int)
    s.add_argument("--mail", type=int, default=1, help="mail slot (default 1)")
    s = sub.add_parser("export", parents=[JSON], help="hand out the disc in storage SLOT through a mail slot")
    s.add_argument("slot", type=int)
    s.add_argument("--mail", type=int, default=1, help="mail slot (default 1)")
    s.add_argument(
        "--location",
        metavar="TEXT",
        help='where the disc will be kept, e.g. "shelf 3" (whereis, the mount and the status page show it)',
    )
    sub.add_parser("reset", parents=[JSON], help="clear a fault (jam) and re-home the changer")
    s = sub.add_parser("simulate", parents=[JSON], help="run the simulated changer (foreground), or poke it")
    s.add_argument("--background", action="store_true", help="start it in the background and return")
    s.add_argument("--stop", action="store_true", help="stop a running simulator")
    s.add_argument(
        "--fault",
        action="append",
        metavar="TEXT",
        help="arm a fault: jam | miss SLOT | notready DRIVE | unreadable SLOT | burnfail PCT [N] |"
        " garble N | drop N | unplug SECONDS | clear",
    )
    s.add_argument("--add-blanks", type=int, metavar="N", help="put N blank media into free slots")
    s = sub.add_parser("burn", parents=[JSON], help="burn, verify and shelve discs (e.g. --segments 0-40)")
    which = s.add_mutually_exclusive_group(required=True)
    which.add_argument("--segments", metavar="SPEC", help="0-40, 3,5,9-12 or all")
    which.add_argument(
        "--replace",
        type=int,
        metavar="N",
        help="burn a new disc for disc N (of set --copy) that failed its scrub; the old medium is rejected",
    )
    s.add_argument(
        "--copy",
        type=_copy_number,
        default=0,
        metavar="K",
        help="burn the copies of set K (1 or B, 2 or C, ...; see plan_iso --copies) instead of the discs",
    )


def _copy_number(text: str) -> int:
    """`--copy`: a copy number (0 = set A) or a set letter."""
    if len(text) == 1 and text.isalpha():
        return ord(text.upper()) - ord("A")
    if text.isdigit():
        return int(text)
    raise argparse.ArgumentTypeError(f"{text!r} is neither a copy number nor a set letter (A, B, ...)")


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
    from odarchive.app.service.client import ensure_service

    with ensure_service(ctx, announce) as client:
        if args.robot_action == "burn":
            from odarchive.app.robot_burn import run_burn

            spec, replaced = args.segments, None
            if args.replace is not None:
                from odarchive.app.robot_burn import replace_disc

                replaced = {
                    "disc": args.replace,
                    "copy": args.copy,
                    "image_from": replace_disc(ctx, client, args.replace, args.copy),
                }
                spec = str(args.replace)
            result = run_burn(ctx, client, spec, make_reporter(args.json), copy=args.copy) | {"replaced": replaced}
            text = (
                f"burned {len(result['burned'])} disc(s), skipped {len(result['skipped'])} already verified"
                f"; rejected media so far: {len(result['rejected_media'])}"
            )
            text += "".join(f"\nrebuilt disc {r['disc']}: {r['reason']}" for r in result["rebuilt"])
            text += "".join(f"\nREFUSED disc {r['disc']}: {r['reason']}" for r in result["refused"])
            _show(args, result, text)
            if result["refused"]:
                from odarchive.planned_image import ImageRefused

                first = result["refused"][0]
                raise ImageRefused(
                    first["disc"],
                    first["reason"]
                    + (f" (and {len(result['refused']) - 1} more disc(s))" if len(result["refused"]) > 1 else ""),
                )
            if result["unshelved"]:
                from odarchive.errors import CheckFailed

                shown = ", ".join(str(d) for d in result["unshelved"])
                raise CheckFailed(
                    f"disc(s) {shown} are verified but still in a drive (slot unknown)",
                    hint="clear the fault, `odarchive robot reset` (it shelves them), then check `robot inventory`",
                )
            return 0
        if args.robot_action == "inventory":
            return _inventory(args, _robot(client, "inventory"))
        if args.robot_action == "status":
            return _status(args, _robot(client, "status"))
        if args.robot_action == "load":
            _robot(client, "load", slot=args.slot, drive=args.drive)
            return _show(args, {"loaded": args.slot, "drive": args.drive}, f"slot {args.slot} -> drive {args.drive}")
        if args.robot_action == "unload":
            slot = _robot(client, "unload", drive=args.drive, slot=args.slot)["slot"]
            return _show(args, {"unloaded": args.drive, "slot": slot}, f"drive {args.drive} -> slot {slot}")
        if args.robot_action == "import":
            done = _robot(client, "import", slot=args.slot, mail=args.mail)
            known = f" (disc {done['disc']})" if done.get("disc") is not None else ""
            return _show(args, done, f"mail slot {args.mail} -> slot {args.slot}{known}")
        if args.robot_action == "export":
            _robot(client, "export", slot=args.slot, mail=args.mail, location=args.location)
            where = f" (to be kept at {args.location})" if args.location else ""
            return _show(
                args,
                {"exported": args.slot, "mail": args.mail, "location": args.location},
                f"slot {args.slot} -> mail slot {args.mail}{where}",
            )
        _robot(client, "reset")
        return _show(args, {"reset": True}, "changer reset")


def _robot(client: ServiceClient, action: str, **fields: object) -> Reply:
    """A robot command through the service; what the manual driver asks is shown first."""
    result = client.robot(action, **fields)
    for text in result.pop("prompts", []):
        announce(text)
    return result


def _show(args: argparse.Namespace, obj: Mapping[str, object], text: str) -> int:
    if args.json:
        print_json(obj)
    else:
        for line in text.split("\n"):
            say(line)
    return 0


def _inventory(args: argparse.Namespace, inv: Reply) -> int:
    if args.json:
        print_json(inv)
        return 0
    for d in inv["drives"]:
        what = f"disc {d['disc']}" if d["disc"] is not None else (d["medium"] or "")
        src = f" (from slot {d['loaded_from_slot']})" if d["loaded_from_slot"] else ""
        say(f"drive {d['drive']}: {d['state']} {what}{src}".rstrip())
    for s in inv["slots"]:
        if s["state"] != "empty":
            what = f" disc {s['disc']}" if s["disc"] is not None else ""
            say(f"slot {s['slot']}: {s['state']}{what}{' ' + s['label'] if s['label'] else ''}")
    for m in inv["mail"]:
        say(f"mail slot {m['slot']}: {m['state']}")
    empty = sum(1 for s in inv["slots"] if s["state"] == "empty")
    say(f"{len(inv['slots'])} slots, {empty} empty")
    return 0


def _status(args: argparse.Namespace, status: Reply) -> int:
    if args.json:
        print_json(status)
        return 0
    say(
        f"driver {status['driver']} on {status['device']}"
        + (f" (simulator pid {status['simulator_pid']})" if status["simulator_pid"] else "")
    )
    say("slots: " + ", ".join(f"{n} {state}" for state, n in sorted(status["slots"].items())))
    for d in status["drives"]:
        src = f" from slot {d['loaded_from_slot']}" if d["loaded_from_slot"] else ""
        say(f"drive {d['drive']} ({d['device']}): {d['state']}{src}")
    if status["request"]:
        say(f"waiting for you: {status['request']}")
    return 0


def _simulate(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.app import robot_ops

    if args.stop:
        stopped = robot_ops.stop_simulator(ctx)
        return _show(args, {"stopped": stopped}, "simulator stopped" if stopped else "no simulator was running")
    if args.fault or args.add_blanks:
        done = robot_ops.poke_simulator(ctx, args.fault or [], args.add_blanks or 0)
        return _show(args, {"done": done}, "\n".join(done))
    if args.background:
        info = robot_ops.background_simulator(ctx)
        return _show(args, info, f"simulator pid {info['pid']} on {info['tty']} ({info['dialect']} dialect)")

    robot_ops.serve_simulator(ctx, announce)
    return 0
