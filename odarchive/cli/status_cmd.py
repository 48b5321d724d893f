"""`odarchive status`: what is running on this home now.

When the home's service answers on its socket: its status snapshot (the status page's
information, `odarchive.cli.service_status`), then the jobs' status records of commands
running beside it. Without a service: the jobs' status records alone (`<home>/jobs`). Either
way, the burned discs out of the changer and where they are kept (`robot export --location`).
`--json` prints `{"home", "service": snapshot or null, "jobs": records, "offline_discs"}`.
"""

from __future__ import annotations

import argparse
import time

from odarchive.app.context import Context
from odarchive.cli.render import print_json, say
from odarchive.units import format_size


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass  # only --json (odarchive.cli.json_flag)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from odarchive.app.service.client import service_client
    from odarchive.copies import offline_discs_of
    from odarchive.jobs import read_jobs

    client = service_client(ctx.home)
    service = None
    if client is not None:
        with client:
            service = client.status()
    jobs = []
    for job in read_jobs(ctx.home.jobs):
        r = dict(job.record)
        if job.alive:
            r["state"] = "running"
        else:
            r["state"] = "failed" if r.get("phase") == "failed" else "died"
        r["age_s"] = round(time.time() - r.get("updated", 0), 1)
        jobs.append(r)
    offline = service.get("offline_discs") if service is not None else offline_discs_of(ctx.home.catalogue)
    if args.json:
        print_json({"home": str(ctx.home.root), "service": service, "jobs": jobs, "offline_discs": offline})
        return 0
    if service is not None:
        from odarchive.cli.service_status import describe_service

        for line in describe_service(service):
            say(line)
        jobs = [r for r in jobs if not (r.get("command") == "mount" and r["state"] == "running")]  # listed above
    elif not jobs:
        say(f"nothing is running on {ctx.home.root}")
    for r in jobs:
        for line in _describe(r).split("\n"):  # a mount's record is several lines
            say(line)
    if service is None:  # the service's lines above list them
        from odarchive.cli.service_status import offline_lines

        for line in offline_lines(offline or []):
            say(line)
    return 0


def _describe(r: dict) -> str:
    head = f"{r['job']} ({r.get('command', '?')}, pid {r.get('pid')})"
    if r["state"] == "died":
        return (
            f"{head}: died during phase {r.get('phase')} {r['age_s']:.0f} s ago; run the same command again to continue"
        )
    if r["state"] == "failed":
        return f"{head}: failed: {r.get('error', '')}"
    if r.get("command") == "mount":
        from odarchive.cli.mount_status import describe_mount

        return describe_mount(r)
    done = f"{r.get('items', 0)} items, {format_size(r.get('bytes', 0))}"
    totals = []
    if r.get("total_items"):
        totals.append(f"of {r['total_items']} items")
    if r.get("total_bytes"):
        totals.append(f"of {format_size(r['total_bytes'])}")
    rate = f"{r.get('items_per_s', 0):.0f} items/s, {format_size(r.get('bytes_per_s', 0))}/s"
    eta = f", ETA {r['eta_s']:.0f} s" if r.get("eta_s") is not None else ""
    extra = "".join(f", {k} {v}" for k, v in r.items() if k.endswith("_count"))
    return (
        f"{head}: {r.get('phase')}: {done} {' '.join(totals)} ({rate}{eta}{extra}); last update {r['age_s']:.0f} s ago"
    )
