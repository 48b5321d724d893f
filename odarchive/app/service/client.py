"""Talking to the service: `ServiceClient` (httpx over the Unix socket) and `ensure_service`.

`service_client(home)` is a client when a service answers on `<home>/service.sock`, else
None (for `odarchive status`). `ensure_service(ctx, announce)` is what a command that needs
the robot calls: the running service, or one started now in the background
(`odarchive serve`, its log in `<home>/logs/service.log`), announced with `announce(text)`.
State-changing requests carry the home's token.
"""

from __future__ import annotations

from typing import Any, Callable

import httpx

from odarchive.app.background import spawn_detached
from odarchive.app.context import Context
from odarchive.app.service.server import short_path
from odarchive.app.service.token import auth_headers
from odarchive.errors import OdarchiveError
from odarchive.home import Home

BASE_URL = "http://odarchive.service"


class ServiceError(OdarchiveError):
    """The service refused a request or could not be reached; its message and hint."""

    exit_code = 1


class ServiceClient:
    """A client of one home's service. Not thread-safe: one per thread (cheap)."""

    def __init__(self, home: Home, timeout_s: float = 30.0) -> None:
        self.home = home
        self._name = short_path(home.service_socket)
        uds = self._name.__enter__()
        self.http = httpx.Client(transport=httpx.HTTPTransport(uds=uds), base_url=BASE_URL, timeout=timeout_s,
                                 headers=auth_headers(home))

    def close(self) -> None:
        self.http.close()
        self._name.__exit__()

    def __enter__(self) -> "ServiceClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, *, timeout_s: float | None = None, **kwargs: Any) -> Any:
        """The JSON answer of a request; ServiceError with the service's message otherwise."""
        try:
            extra = {"timeout": timeout_s} if timeout_s is not None else {}
            r = self.http.request(method, path, **extra, **kwargs)
        except httpx.TransportError as e:
            raise ServiceError(f"the archive service of {self.home.root} did not answer: {e}",
                               hint="see <home>/logs/service.log; `odarchive serve` starts it again") from None
        try:
            body = r.json()
        except ValueError:
            body = {"error": r.text.strip()}
        if r.status_code >= 400:
            raise ServiceError(str(body.get("error") or f"HTTP {r.status_code}"), hint=str(body.get("hint") or ""))
        return body

    def status(self) -> dict[str, Any]:
        return self.request("GET", "/api/status")

    def stop(self, force: bool = False) -> None:
        self.request("POST", "/api/stop", params={"force": "1"} if force else None)


def service_client(home: Home) -> ServiceClient | None:
    """A client when a service answers for `home`, else None."""
    if not home.service_socket.exists():
        return None
    client = ServiceClient(home, timeout_s=5.0)
    try:
        client.http.get("/api/status")
    except httpx.TransportError:
        client.close()
        return None
    client.http.timeout = httpx.Timeout(30.0)
    return client


def ensure_service(ctx: Context, announce: Callable[[str], None]) -> ServiceClient:
    """The running service of this home, else one started now in the background."""
    client = service_client(ctx.home)
    if client is not None:
        return client
    pid = start_background(ctx)
    announce(f"started the archive service for {ctx.home.root} (pid {pid}); `odarchive serve --stop` stops it")
    client = service_client(ctx.home)
    if client is None:
        raise ServiceError("the archive service started but does not answer", hint=f"see {ctx.home.logs / 'service.log'}")
    return client


def start_background(ctx: Context, extra: list[str] | None = None) -> int:
    """Start `odarchive serve --foreground` detached; its pid once it is ready."""
    from odarchive.app.service.config import service_config

    started = spawn_detached(ctx, ["serve", "--foreground", *(extra or [])], "service.log", service_config(ctx).start_timeout_s)
    if started.ready:
        return started.proc.pid
    tail = _log_tail(ctx)
    raise ServiceError(f"the archive service did not start{': ' + tail if tail else ''}", hint=f"see {ctx.home.logs / 'service.log'}")


def _log_tail(ctx: Context) -> str:
    try:
        lines = (ctx.home.logs / "service.log").read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][-300:] if lines else ""
