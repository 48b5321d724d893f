"""`/api/jobs` and `/api/archive`: start jobs and follow them, over HTTP + JSON.

`POST /api/jobs` takes a JSON object (`Content-Type: application/json`, at most 64 KiB):
`{"kind": "burn", "segments": "0-3"}` or `{"kind": "rescan", "source": "photos", "size":
"bluray"}`. It answers 202 with the queued job (`Location: /api/jobs/ID`), or 400 with
`error` (the message), `hint` and `kind` when the job cannot run as asked (nothing is queued then).
Requiring JSON also means a plain HTML form on another site cannot post here at all.

JSON is written ASCII-only: names that are not UTF-8 travel as `\\udcXX` escapes and come
back unchanged when a client sends them (a rescan of such a source).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from odarchive.errors import OdarchiveError

MAX_BODY_BYTES = 64 * 1024


class AsciiJSON(JSONResponse):
    """JSON with every non-ASCII character escaped (lone surrogates included)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":"), default=str).encode()


def problem(status: int, error: str, message: str, hint: str = "") -> Response:
    """An error answer in the service's one form: `error` (the message), `hint`, and `kind`."""
    return AsciiJSON({"error": message, "hint": hint, "kind": error}, status_code=status)


def client_of(request: Request) -> str:
    """Who asked: the client's own word (`X-Odarchive-Client`), else its address."""
    said = request.headers.get("x-odarchive-client", "").strip()
    if said:
        return said[:100]
    peer = request.client
    return f"http {peer.host}" if peer and peer.host else "socket"


def job_routes(jobs: Any) -> list[BaseRoute]:
    """The routes over `jobs` (an `odarchive.app.job_manager.JobManager`)."""

    async def list_jobs(request: Request) -> Response:
        return AsciiJSON({"jobs": jobs.snapshot()})

    async def one_job(request: Request) -> Response:
        job = jobs.get(request.path_params["job_id"])
        if job is None:
            return problem(
                404,
                "NotFound",
                f"no job {request.path_params['job_id']}",
                "finished jobs are kept for a while only; see GET /api/jobs",
            )
        return AsciiJSON({"job": job})

    async def post_job(request: Request) -> Response:
        body = await _json_body(request)
        if isinstance(body, Response):
            return body
        kind = body.get("kind")
        params = {k: v for k, v in body.items() if k != "kind"}
        try:
            job = await run_in_threadpool(
                jobs.submit, kind if isinstance(kind, str) else "", params, client_of(request)
            )
        except OdarchiveError as e:
            return problem(400, type(e).__name__, e.message, e.hint)
        return AsciiJSON({"job": job.as_dict()}, status_code=202, headers={"Location": f"/api/jobs/{job.id}"})

    async def archive(request: Request) -> Response:
        try:
            return AsciiJSON(await run_in_threadpool(jobs.choices))
        except OdarchiveError as e:
            return problem(409, type(e).__name__, e.message, e.hint)

    return [
        Route("/api/jobs", list_jobs, methods=["GET"]),
        Route("/api/jobs", post_job, methods=["POST"]),
        Route("/api/jobs/{job_id:int}", one_job, methods=["GET"]),
        Route("/api/archive", archive, methods=["GET"]),
    ]


async def _json_body(request: Request) -> dict[str, Any] | Response:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return problem(415, "UnsupportedMediaType", "send the job as JSON", "Content-Type: application/json")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return problem(413, "TooLarge", f"a job request is at most {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    try:
        body = json.loads(b"".join(chunks))
    except ValueError as e:
        return problem(400, "BadJSON", f"the body is not JSON: {e}", 'e.g. {"kind": "burn", "segments": "all"}')
    if not isinstance(body, dict):
        return problem(400, "BadJSON", "the body must be a JSON object", 'e.g. {"kind": "burn", "segments": "all"}')
    return body
