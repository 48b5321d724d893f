"""`GET /`: the status page, and the two files it loads, all from this package.

The page is static: `status.js` fetches `/api/status` every couple of seconds and builds the
DOM with `textContent` and element properties, never from HTML text, so a name holding
`<script>` shows as those characters. The Content-Security-Policy allows scripts and styles
from this origin only (no inline script, nothing external), so even a mistake in the script
could not run markup that came in with the data.
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

STATIC = {  # the only files served: name -> media type
    "status.js": "text/javascript; charset=utf-8",
    "status.css": "text/css; charset=utf-8",
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:;"
    " base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _read(name: str) -> bytes:
    return resources.files("odarchive.app.web").joinpath("static", name).read_bytes()


async def index(request: Request) -> Response:
    return Response(_read("index.html"), media_type="text/html; charset=utf-8", headers=HEADERS)


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC:
        return Response("not found\n", status_code=404, media_type="text/plain", headers=HEADERS)
    return Response(_read(name), media_type=STATIC[name], headers=HEADERS)


def page_routes() -> list[BaseRoute]:
    return [Route("/", index, methods=["GET"]), Route("/static/{name}", static, methods=["GET"])]
