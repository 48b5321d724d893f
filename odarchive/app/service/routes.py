"""The lease and robot routes of the service's API (added to the app by `http.build_app`).

    POST /api/leases                {kind: read|burn, disc, copy, client, pid, timeout_s}
         -> 200 {id, kind, disc, copy, drive, device, slot, notes}, once granted (the request
            waits; `copy`: reads of that copy only, burns the set burned; `notes`: copies
            that failed before one served);
            504 when a read is not granted within its timeout, 503 on a robot fault
    POST /api/leases/{id}/release   {verified: bool, reason: str}  -> {slot}
    GET  /api/robot/inventory | /api/robot/status
    POST /api/robot/{load|unload|import|export|reset}   {slot, drive, mail}

Robot commands wait for the robot thread (`LeaseManager.run_motion`); a drive in use gives
409, robot errors 503 with the driver's message and hint.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from odarchive.app.service.http import error_response
from odarchive.app.service.leases import LeaseFailed
from odarchive.app.service.robot_actions import DriveLeased, RobotActions
from odarchive.app.service.scheduler import BURN, READ
from robot_drivers.errors import RobotError

ROBOT_ACTIONS = frozenset(
    {
        ("GET", "inventory"),
        ("GET", "status"),
        ("POST", "load"),
        ("POST", "unload"),
        ("POST", "import"),
        ("POST", "export"),
        ("POST", "reset"),
    }
)


def service_routes(svc: Any) -> list[BaseRoute]:

    async def acquire(request: Request) -> Response:
        body = await _json(request)
        kind, disc = body.get("kind"), body.get("disc")
        if kind not in (READ, BURN) or not isinstance(disc, int) or isinstance(disc, bool):
            return error_response(400, "a lease needs kind (read or burn) and a disc number")
        timeout_s = body.get("timeout_s")
        timeout_s = float(timeout_s) if isinstance(timeout_s, (int, float)) else svc.config.read_timeout_s
        pid = body.get("pid") if isinstance(body.get("pid"), int) else None
        copy = body.get("copy")
        if copy is not None and (not isinstance(copy, int) or isinstance(copy, bool) or copy < 0):
            return error_response(400, "a lease's copy is a copy number (0 = set A), or null for any copy")
        try:
            info = await svc.leases.acquire(kind, disc, str(body.get("client") or "?")[:200], pid, timeout_s, copy)
        except LeaseFailed as e:
            return error_response(
                504 if "not available within" in e.message else 503, e.message, e.hint or "", e.exit_code
            )
        return JSONResponse(lease_json(info))

    async def release(request: Request) -> Response:
        body = await _json(request)
        try:
            lease_id = request.path_params["lease_id"]
            done = svc.leases.release(lease_id, bool(body.get("verified", True)), str(body.get("reason") or ""))
            slot = await asyncio.wrap_future(done)
        except KeyError:
            return error_response(
                404, f"no lease {request.path_params['lease_id']}", "it was released already, or its client died"
            )
        except RobotError as e:
            return error_response(503, str(e), e.hint or "", e.exit_code)
        return JSONResponse({"slot": slot})

    async def robot(request: Request) -> Response:
        action = request.path_params["action"]
        if (request.method, action) not in ROBOT_ACTIONS:
            return error_response(404, f"no robot action {action!r} for {request.method}")
        body = await _json(request) if request.method == "POST" else {}
        actions = RobotActions(svc.leases)
        calls = {
            ("GET", "inventory"): actions.inventory,
            ("GET", "status"): actions.status,
            ("POST", "load"): lambda: actions.load(int(body["slot"]), int(body.get("drive", 0))),
            ("POST", "unload"): lambda: actions.unload(int(body.get("drive", 0)), _opt_int(body.get("slot"))),
            ("POST", "import"): lambda: actions.import_disc(int(body["slot"]), int(body.get("mail", 1))),
            ("POST", "export"): lambda: actions.export_disc(
                int(body["slot"]), int(body.get("mail", 1)), _opt_str(body.get("location"))
            ),
            ("POST", "reset"): actions.reset,
        }
        call = calls[(request.method, action)]
        asked = len(svc.prompts)
        try:
            result = await asyncio.wrap_future(svc.leases.run_motion(call))
        except (KeyError, ValueError, TypeError):
            return error_response(400, f"robot {action}: bad or missing slot/drive/mail number")
        except DriveLeased as e:
            return error_response(409, e.message, e.hint or "", e.exit_code)
        except RobotError as e:  # what the manual driver asked for comes first: the person reads it
            return error_response(503, "; ".join([*svc.prompts[asked:], str(e)]), e.hint or "", e.exit_code)
        return JSONResponse({**result, "prompts": svc.prompts[asked:]})

    return [
        Route("/api/leases", acquire, methods=["POST"]),
        Route("/api/leases/{lease_id:int}/release", release, methods=["POST"]),
        Route("/api/robot/{action}", robot, methods=["GET", "POST"]),
    ]


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)[:500]


def lease_json(info: Any) -> dict[str, Any]:
    """A granted lease as the API answers it (`LeaseInfo`)."""
    r = info.request
    return {
        "id": r.id,
        "kind": r.kind,
        "disc": r.disc,
        "copy": r.copy,
        "drive": r.drive,
        "device": info.device,
        "slot": info.slot,
        "notes": info.notes,
    }
