"""Talking to the service: `ServiceClient` (httpx over the Unix socket) and `ensure_service`.

`service_client(home)` is a client when a service answers on `<home>/service.sock`, else
None (for `odarchive status`). `ensure_service(ctx, announce)` is what a command that needs
the robot calls: the running service, or one started now in the background
(`odarchive serve`, its log in `<home>/logs/service.log`), announced with `announce(text)`.
State-changing requests carry the home's token.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import httpx

from odarchive.app.background import spawn_detached
from odarchive.app.context import Context
from odarchive.app.service.server import short_path
from odarchive.app.service.token import auth_headers
from odarchive.errors import OdarchiveError
from odarchive.home import Home

Reply = dict[str, Any]
"""A parsed JSON reply of the service (docs/service.md gives its fields); renderers read it with .get()."""

BASE_URL = "http://odarchive.service"
LEASE_MARGIN_S = 30.0  # the service answers a read lease by its timeout; this covers the trip
LONG_WAIT_S = 3600.0  # burns wait for a drive, robot commands for the robot (motions take minutes)


class ServiceError(OdarchiveError):
    """The service refused a request or could not be reached; its message, hint and the
    exit code of the robot error behind it."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "", exit_code: int | None = None) -> None:
        super().__init__(message, hint)
        if exit_code is not None:
            self.exit_code = exit_code


class ServiceUnreachable(ServiceError):
    """No service answers on the socket (not started, stopped, or killed)."""


class ServiceClient:
    """A client of one home's service. Not thread-safe: one per thread (cheap)."""

    def __init__(self, home: Home, timeout_s: float = 30.0) -> None:
        self.home = home
        self._name = short_path(home.service_socket)
        uds = self._name.__enter__()
        self.http = httpx.Client(
            transport=httpx.HTTPTransport(uds=uds), base_url=BASE_URL, timeout=timeout_s, headers=auth_headers(home)
        )

    def close(self) -> None:
        self.http.close()
        self._name.__exit__()

    def spawn(self) -> ServiceClient:
        """Another client of the same service (one per thread)."""
        return ServiceClient(self.home)

    def __enter__(self) -> ServiceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, *, timeout_s: float | None = None, **kwargs: Any) -> Any:
        """The JSON answer of a request; ServiceError with the service's message otherwise."""
        try:
            if timeout_s is not None:
                kwargs["timeout"] = timeout_s
            r = self.http.request(method, path, **kwargs)
        except httpx.TransportError as e:
            raise ServiceUnreachable(
                f"the archive service of {self.home.root} did not answer: {e}",
                hint="see <home>/logs/service.log; `odarchive serve` starts it again",
            ) from None
        try:
            body = r.json()
        except ValueError:
            body = {"error": r.text.strip()}
        if r.status_code >= 400:
            code = body.get("exit_code")
            raise ServiceError(
                str(body.get("error") or f"HTTP {r.status_code}"),
                str(body.get("hint") or ""),
                code if isinstance(code, int) else None,
            )
        return body

    def status(self) -> Reply:
        return self.request("GET", "/api/status")

    def stop(self, force: bool = False) -> None:
        self.request("POST", "/api/stop", params={"force": "1"} if force else None)

    def lease(
        self, kind: str, disc: int, client: str, timeout_s: float | None = None, copy: int | None = None
    ) -> Reply:
        """Wait for a lease: {id, kind, disc, copy, drive, device, slot, notes}; ServiceError if
        it fails (a read not granted within `timeout_s`: the message names the disc). `copy`:
        a read of that copy only (None: any), or the set a burn burns."""
        body = {"kind": kind, "disc": disc, "copy": copy, "client": client, "pid": os.getpid(), "timeout_s": timeout_s}
        wait = None if timeout_s is None else timeout_s + LEASE_MARGIN_S
        return self.request("POST", "/api/leases", json=body, timeout_s=wait if wait is not None else LONG_WAIT_S)

    def release(self, lease_id: int, verified: bool = True, reason: str = "") -> int | None:
        """Give a lease back; for a burn, the slot its medium went to."""
        body = self.request(
            "POST",
            f"/api/leases/{lease_id}/release",
            json={"verified": verified, "reason": reason},
            timeout_s=LONG_WAIT_S,
        )
        return body.get("slot")

    def robot(self, action: str, **fields: object) -> Reply:
        """A robot command on the service's robot thread (GET for inventory and status)."""
        if action in ("inventory", "status"):
            return self.request("GET", f"/api/robot/{action}", timeout_s=LONG_WAIT_S)
        return self.request("POST", f"/api/robot/{action}", json=fields, timeout_s=LONG_WAIT_S)


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


def stop_service(home: Home, force: bool = False, wait_s: float = 30.0) -> bool:
    """Stop the service of `home` if one runs (once idle, unless `force`); whether one ran."""
    client = service_client(home)
    if client is None:
        return False
    with client:
        client.stop(force=force)
    deadline = time.monotonic() + wait_s
    while home.service_socket.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


def ensure_service(ctx: Context, announce: Callable[[str], None]) -> ServiceClient:
    """The running service of this home, else one started now in the background."""
    fingerprint = robot_fingerprint(ctx)  # a bad [robot] table is an error here and now
    client = service_client(ctx.home)
    if client is not None:
        if client.status()["service"].get("robot") == fingerprint:
            return client
        client.close()  # it drives the robot of an older [robot] configuration: replace it
        stop_service(ctx.home)
    pid = start_background(ctx)
    announce(f"started the archive service for {ctx.home.root} (pid {pid}); `odarchive serve --stop` stops it")
    client = service_client(ctx.home)
    if client is None:
        raise ServiceError(
            "the archive service started but does not answer", hint=f"see {ctx.home.logs / 'service.log'}"
        )
    return client


def robot_fingerprint(ctx: Context) -> str:
    """Which robot configuration a service drives ([robot] and [robot.simulator])."""
    import hashlib
    import json
    from dataclasses import asdict

    from odarchive.app.robot_config import robot_config, sim_config

    conf = robot_config(ctx)
    text = json.dumps([asdict(conf), asdict(sim_config(ctx, conf))], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def start_background(ctx: Context, extra: list[str] | None = None) -> int:
    """Start `odarchive serve --foreground` detached; its pid once it is ready."""
    from odarchive.app.service.config import service_config

    timeout_s = service_config(ctx).start_timeout_s
    started = spawn_detached(ctx, ["serve", "--foreground", *(extra or [])], "service.log", timeout_s)
    if started.ready:
        return started.proc.pid
    if started.timed_out:
        raise ServiceError(
            f"the archive service did not answer within {timeout_s:g} s", hint=f"see {ctx.home.logs / 'service.log'}"
        )
    error, hint = started.error_and_hint()
    raise ServiceError(
        f"the archive service did not start: {error or _log_tail(ctx) or 'it ended at once'}",
        hint or f"see {ctx.home.logs / 'service.log'}",
        started.exit_code(),
    )


def _log_tail(ctx: Context) -> str:
    try:
        lines = (ctx.home.logs / "service.log").read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][-300:] if lines else ""
