"""`odarchive serve [--foreground] [--listen HOST:PORT] [--stop]`: the archive service.

Starts the service that owns this home's robot (`odarchive.app.service`) in the background
and returns once it answers; `--foreground` serves in this process (systemd:
udev/odarchive.service); `--stop` stops a running one once nothing is in flight.
"""

from __future__ import annotations

import argparse
import sys

from odarchive.app.context import Context
from odarchive.cli.render import print_json
from odarchive.options import add_flags, flag_argv, flag_values


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--foreground", action="store_true", help="serve in this process (for systemd)")
    add_flags(p, "service")  # --listen (odarchive.options)
    p.add_argument("--stop", action="store_true", help="stop the running service once nothing is in flight")
    p.add_argument("--force", action="store_true", help="with --stop: stop even with leases held or requests waiting")
    p.add_argument("--ready-fd", type=int, help=argparse.SUPPRESS)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.app.service.client import service_client, start_background
    from odarchive.app.service.config import service_config

    flags = flag_values(args, "service")
    config = service_config(ctx, **flags)
    if args.stop:
        return _stop(args, ctx, args.force)
    if args.foreground:
        from odarchive.app.service.server import serve

        serve(ctx, config, args.ready_fd, strict_listen="listen" in flags)
        return 0
    client = service_client(ctx.home)
    if client is not None:
        status = client.status()["service"]
        client.close()
        return _show(
            args,
            {"running": True, "pid": status["pid"], "listen": status["listen"], "started": False},
            f"the archive service already runs (pid {status['pid']})",
        )
    pid = start_background(ctx, flag_argv(args, "service"))
    client = service_client(ctx.home)
    listen = client.status()["service"]["listen"] if client else ""
    if client:
        client.close()
    where = f"; page on http://{listen}/" if listen else ""
    return _show(
        args,
        {"running": True, "pid": pid, "listen": listen, "started": True},
        f"started the archive service (pid {pid}){where}; `odarchive serve --stop` stops it",
    )


def _stop(args: argparse.Namespace, ctx: Context, force: bool) -> int:
    from odarchive.app.service.client import stop_service

    if not stop_service(ctx.home, force=force):
        return _show(args, {"stopped": False}, "no archive service runs for this home")
    return _show(args, {"stopped": True}, "archive service stopped")


def _show(args: argparse.Namespace, obj: dict, text: str) -> int:
    if args.json:
        print_json(obj)
    else:
        print(text, file=sys.stderr if not args.json else sys.stdout)
    return 0
