"""Running the service: its sockets, uvicorn, readiness for systemd, and stopping.

`serve(ctx, config)` opens the robot, reads the inventory, binds `<home>/service.sock`
(created under umask 077: mode 0600, never world-accessible) and the TCP address
(`[service] listen`, loopback by default), and serves one Starlette app on both with one
uvicorn server until `POST /api/stop`, SIGTERM or SIGINT. Readiness: once the sockets
listen, "READY=1" goes to systemd's `NOTIFY_SOCKET` (Type=notify) and "ready" to
`ready_fd` (the background start in `client.ensure_service` waits for it).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from pathlib import Path
from typing import Any

from odarchive.app.background import report_ready
from odarchive.app.context import Context
from odarchive.app.service.config import ServiceConfig, parse_listen
from odarchive.errors import UsageError

log = logging.getLogger("odarchive.service")


class ServiceRunning(UsageError):
    exit_code = 1


def serve(ctx: Context, config: ServiceConfig, ready_fd: int | None = None, strict_listen: bool = False) -> None:
    """Serve this home's robot in this process until stopped. A TCP address in use is an
    error with `strict_listen` (an explicit --listen), else the socket alone is served. An
    error before the service is ready also goes to `ready_fd` (message, hint, exit code)."""
    import uvicorn

    from odarchive.app.service.http import build_app

    ctx.home.ensure()
    log.setLevel(min(log.getEffectiveLevel(), logging.INFO))  # one INFO line per state change (events.py)
    sockets: list[socket.socket] = []
    svc = None
    try:
        sockets.append(bind_unix(ctx.home.service_socket))
        try:
            svc, token = _start(ctx, config, sockets, strict_listen)
        except BaseException:
            ctx.home.service_socket.unlink(missing_ok=True)
            raise
        server = uvicorn.Server(
            uvicorn.Config(
                build_app(svc, token, lambda: setattr(server, "should_exit", True)),
                log_level="warning",
                lifespan="off",
                timeout_graceful_shutdown=5,
            )
        )
    except BaseException as e:
        report_ready(ready_fd, f"error\t{e}\t{getattr(e, 'hint', '')}\t{getattr(e, 'exit_code', '')}")
        for sock in sockets:
            sock.close()
        if svc is not None:
            svc.close()
        raise
    try:
        asyncio.run(_run(server, sockets, ready_fd, svc.listen))
    finally:
        svc.close()
        ctx.home.service_socket.unlink(missing_ok=True)
        for sock in sockets:
            sock.close()


def _start(ctx: Context, config: ServiceConfig, sockets: list[socket.socket], strict_listen: bool) -> tuple[Any, str]:
    """The TCP socket (added to `sockets`), the token, and the service with its robot
    opened and reconciled."""
    from odarchive.app.robot_config import open_robot
    from odarchive.app.robot_ops import manual_prompt
    from odarchive.app.service.state import RobotService
    from odarchive.app.service.token import ensure_token

    if config.listen:
        try:
            sockets.append(bind_tcp(*parse_listen(config.listen)))
        except UsageError as e:
            if strict_listen:
                raise
            log.warning("%s; serving on %s only", e.message, ctx.home.service_socket)
    token = ensure_token(ctx.home)
    prompts: list[str] = []  # the manual driver's requests, also returned to the command that caused them
    show = manual_prompt(ctx)

    def prompt(text: str | None) -> None:
        show(text)
        if text is not None:
            prompts.append(text)

    robot = open_robot(ctx, prompt=prompt)
    svc = RobotService(ctx, robot, config)
    svc.prompts = prompts
    if len(sockets) > 1:
        host, port = sockets[1].getsockname()[:2]
        svc.listen = f"{host}:{port}"
    try:
        svc.start()
    except BaseException:
        svc.close()
        raise
    return svc, token


async def _run(server: object, sockets: list[socket.socket], ready_fd: int | None, listen: str) -> None:
    task = asyncio.create_task(server.serve(sockets=sockets))  # type: ignore[attr-defined]
    while not server.started and not task.done():  # type: ignore[attr-defined]
        await asyncio.sleep(0.01)
    if server.started:  # type: ignore[attr-defined]
        log.info("event=service.ready pid=%d listen=%s", os.getpid(), listen or "-")
        notify_systemd("READY=1")
        report_ready(ready_fd, "ready\n")
    await task


def bind_unix(path: Path) -> socket.socket:
    """A listening Unix socket at `path`, mode 0600 (a stale socket file is replaced)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with short_path(path) as name:
            probe.connect(name)
        probe.close()
        raise ServiceRunning(f"a service already runs for {path.parent}", hint="`odarchive serve --stop` stops it")
    except (FileNotFoundError, ConnectionRefusedError):
        path.unlink(missing_ok=True)
    finally:
        probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o077)
    try:
        with short_path(path) as name:
            sock.bind(name)
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    sock.listen(128)
    sock.set_inheritable(False)
    return sock


def bind_tcp(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise UsageError(
            f"cannot listen on {host}:{port}: {e.strerror}",
            hint='choose another [service] listen (or --listen), or `listen = ""` for none',
        ) from None
    sock.listen(128)
    return sock


class short_path:
    """A name for `path` that fits a Unix socket address (108 bytes): the path itself, or
    `/proc/self/fd/N/<name>` through an open directory descriptor when it is too long."""

    def __init__(self, path: Path) -> None:
        self.path, self.fd = path, -1

    def __enter__(self) -> str:
        if len(os.fsencode(self.path)) < 100:
            return str(self.path)
        self.fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY)
        return f"/proc/self/fd/{self.fd}/{self.path.name}"

    def __exit__(self, *exc: object) -> None:
        if self.fd >= 0:
            os.close(self.fd)


def notify_systemd(message: str) -> None:
    """sd_notify: one datagram to $NOTIFY_SOCKET (an abstract name starts with '@')."""
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return
    if addr.startswith("@"):
        addr = "\0" + addr[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        try:
            s.connect(addr)
            s.sendall(message.encode())
        except OSError as e:
            log.warning("cannot notify systemd at %s: %s", addr, e)
