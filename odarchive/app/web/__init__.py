"""The service's web side: the status page, the jobs API and the guard in front of both.

`web_routes(service)` gives the routes the service's app factory adds to its own:

    GET  /                  the status page (static/index.html, status.js, status.css)
    GET  /static/NAME       the page's script and style sheet, from this package
    GET  /api/archive       sources and planned discs, for the page's job buttons
    GET  /api/jobs          the jobs: running, queued, finished, failed
    GET  /api/jobs/ID       one job
    POST /api/jobs          start a job: {"kind": "burn", ...} or {"kind": "rescan", ...}

`guard_middleware(token)` (from `security`) is the token and same-origin check that every
route sits behind. The status itself (`GET /api/status`) is the service's; the page reads it.
This package imports Starlette; the rest of odarchive never imports this package.
"""

from __future__ import annotations

from typing import Any, Iterable

from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from odarchive.app.web.security import RequestGuard


def web_routes(service: Any) -> list[BaseRoute]:
    """The page's and the jobs API's routes for `service` (a `WebService`)."""
    from odarchive.app.web.jobs_api import job_routes
    from odarchive.app.web.page import page_routes

    return [*page_routes(), *job_routes(service)]


def guard_middleware(token: str, allowed_hosts: Iterable[str] = ()) -> Middleware:
    return Middleware(RequestGuard, token=token, allowed_hosts=tuple(allowed_hosts))
