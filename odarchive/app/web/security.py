"""The origin guard in front of every route of the service (the token is checked behind it).

`OriginGuard` is ASGI middleware, outermost; for every HTTP request, in this order:

1. on TCP, a `Host` that is not an IP address or `localhost` is refused (403): a page on another site that re-points its DNS name at 127.0.0.1 (DNS
   rebinding) must not read the status either. Requests on the Unix socket (no server
   port in the ASGI scope) cannot come from a web page and skip this check;
2. a request from another origin is refused (403): an `Origin` that is not this host, or
   `Sec-Fetch-Site` other than `same-origin` / `none`. One exception: a person following a
   link from elsewhere to a page (GET, `Sec-Fetch-Mode: navigate`) is let through, since
   reading a page changes nothing.

Then the service's `TokenGuard` (odarchive.app.service.http) refuses a state-changing request
without `Authorization: Bearer <token>` (401); the token is `odarchive.app.service.token`'s.
Refusals are JSON in the service's form (`error`: the message, `hint`, `kind`: `ForeignHost`
or `CrossOrigin`) and one log line each.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable
from typing import Any

from odarchive.app.events import log_event

SAME_ORIGIN_SITES = frozenset({"same-origin", "none"})

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class OriginGuard:
    """ASGI middleware: refuse foreign hosts and origins (403), as the module docstring says."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        method = scope.get("method", "GET").upper()
        server = scope.get("server")  # (host, port) on TCP; (socket path, None) or None on a Unix socket
        refusal = self.refusal(method, headers, on_tcp=server is not None and server[1] is not None)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, error, message, hint = refusal
        log_event(
            "request.refused",
            status=status,
            method=method,
            path=scope.get("path"),
            origin=headers.get("origin"),
            reason=error,
        )
        body = json.dumps({"error": message, "hint": hint, "kind": error}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def refusal(self, method: str, headers: dict[str, str], on_tcp: bool = True) -> tuple[int, str, str, str] | None:
        """(status, error, message, hint) for a request to refuse, None to let it through."""
        host = headers.get("host", "")
        if on_tcp and host and not self._host_allowed(host):
            return (
                403,
                "ForeignHost",
                f"requests for host {host!r} are refused",
                "open the page by the service's IP address (as `odarchive serve` prints it) or as localhost",
            )
        if self._cross_origin(method, host, headers):
            return (
                403,
                "CrossOrigin",
                "requests from another origin are refused",
                "use the page the service itself serves, or the odarchive command",
            )
        return None

    @staticmethod
    def _host_allowed(host: str) -> bool:
        name = host.rsplit("]", 1)[0].lstrip("[") if host.startswith("[") else host.rsplit(":", 1)[0]
        try:
            ipaddress.ip_address(name)
            return True
        except ValueError:
            return name.lower() == "localhost"

    @staticmethod
    def _cross_origin(method: str, host: str, headers: dict[str, str]) -> bool:
        site = headers.get("sec-fetch-site")
        navigating = method in ("GET", "HEAD") and headers.get("sec-fetch-mode") == "navigate"
        if site is not None and site not in SAME_ORIGIN_SITES and not navigating:
            return True
        origin = headers.get("origin")
        if origin is None or navigating:
            return False
        return origin.lower() not in (f"http://{host}".lower(), f"https://{host}".lower())
