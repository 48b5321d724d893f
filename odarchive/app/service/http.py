"""The service's HTTP + JSON API: the Starlette app factory `build_app`.

The same app answers on the Unix socket and on the TCP address. Routes here: `GET
/api/status` (the snapshot, docs/service.md), `POST /api/stop` (stop once nothing is in
flight), and the lease and robot routes of `routes`. Every request that is not GET/HEAD/OPTIONS needs `Authorization: Bearer <token>`
(`TokenGuard`, 401 otherwise). The web side (page, jobs, origin checks) adds its routes and
middleware at the hook in `build_app`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from odarchive.app.service.token import token_matches
from odarchive.app.web import web_middleware, web_routes

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenGuard:
    """ASGI middleware: a state-changing request without the home's token gets 401."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app, self.token = app, token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
            if not token_matches(self.token, header):
                response = error_response(
                    401,
                    "this request needs the home's token",
                    "send `Authorization: Bearer <token>` with the token in <home>/service.token",
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def error_response(status: int, message: str, hint: str = "", exit_code: int | None = None) -> JSONResponse:
    """{"error", "hint"} (and the exit code a command should end with, for robot errors)."""
    body: dict[str, Any] = {"error": message, "hint": hint}
    if exit_code is not None:
        body["exit_code"] = exit_code
    return JSONResponse(body, status_code=status)


def build_app(svc: Any, token: str, stop: Callable[[], None]) -> Starlette:
    """The app for service `svc` (a `RobotService`); `stop()` ends the server."""
    from odarchive.app.service.routes import service_routes

    async def status(request: Request) -> Response:
        return JSONResponse(svc.status())

    async def stop_route(request: Request) -> Response:
        busy = svc.busy()
        if busy and request.query_params.get("force") != "1":
            return error_response(
                409, f"{busy} lease(s) or request(s) in flight", "wait for them, or stop with force=1"
            )
        stop()
        return JSONResponse({"stopping": True})

    routes: list[BaseRoute] = [
        Route("/api/status", status, methods=["GET"]),
        Route("/api/stop", stop_route, methods=["POST"]),
        *service_routes(svc),
    ]
    middleware = [Middleware(TokenGuard, token=token)]
    # the web side: the page and /api/jobs, and the host/origin check outermost
    routes += web_routes(svc)
    middleware = web_middleware() + middleware
    return Starlette(routes=routes, middleware=middleware)
