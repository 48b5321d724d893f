"""The service's web side: the status page, the jobs API and the origin guard.

`web_routes(svc)` gives the routes the service's app factory (`odarchive.app.service.http`)
adds to its own, and gives `svc` its job manager (`svc.job_manager`; `svc.jobs` is its
snapshot, the `jobs` list of the status):

    GET  /                  the status page (static/index.html, status.js, status.css)
    GET  /static/NAME       the page's script and style sheet, from this package
    GET  /api/archive       sources and planned discs, for the page's job buttons
    GET  /api/jobs          the jobs: running, queued, finished, failed
    GET  /api/jobs/ID       one job
    POST /api/jobs          start a job: {"kind": "burn", ...} or {"kind": "rescan", ...}

Jobs burn with `svc.burn(spec, reporter)`. `web_middleware()` is the host and same-origin
check (`security.OriginGuard`) in front of everything, the service's token check included.
The status itself (`GET /api/status`) is the service's; the page reads it.
"""

from __future__ import annotations

from typing import Any

from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from odarchive.app.web.security import OriginGuard


def web_routes(svc: Any) -> list[BaseRoute]:
    """The page's and the jobs API's routes for service `svc`; starts its job manager."""
    from odarchive.app.job_manager import JobManager
    from odarchive.app.job_steps import ArchiveSteps
    from odarchive.app.web.jobs_api import job_routes
    from odarchive.app.web.page import page_routes

    svc.job_manager = JobManager(ArchiveSteps(svc.ctx.home, svc.ctx.settings, svc.burn))
    svc.jobs = svc.job_manager.snapshot
    return [*page_routes(), *job_routes(svc.job_manager)]


def web_middleware() -> list[Middleware]:
    return [Middleware(OriginGuard)]
