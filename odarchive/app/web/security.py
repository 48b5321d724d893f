"""The home's token and the guard in front of every route of the service.

The token is `<home>/service.token`: 32 random bytes (URL-safe text), mode 0600, made by
`ensure_token` when the service starts and kept across restarts. Whoever can read the home
can read it: the CLI's client sends it, and a person pastes it into the page once.

`RequestGuard` is ASGI middleware; for every HTTP request, in this order:

1. a `Host` that is not an IP address, `localhost` or one of `allowed_hosts` is refused
   (403): a page on another site that re-points its DNS name at 127.0.0.1 (DNS rebinding)
   must not read the status either;
2. a request from another origin is refused (403): an `Origin` that is not this host, or
   `Sec-Fetch-Site` other than `same-origin` / `none`. One exception: a person following a
   link from elsewhere to a page (GET, `Sec-Fetch-Mode: navigate`) is let through, since
   reading a page changes nothing;
3. a state-changing request (any method but GET, HEAD, OPTIONS) without
   `Authorization: Bearer <token>`, or with another token, is refused (401).

Refusals are JSON (`error`, `message`, `hint`) and one log line each.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import secrets
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterable

from odarchive.app.events import log_event

TOKEN_FILE = "service.token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_ORIGIN_SITES = frozenset({"same-origin", "none"})

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def token_path(home_root: Path) -> Path:
    return home_root / TOKEN_FILE


def ensure_token(home_root: Path) -> str:
    """The home's token, made now if there is none. A token file that others could read
    (group or world bits) is replaced by a new one: it may have been read."""
    path = token_path(home_root)
    try:
        st = path.stat()
        token = path.read_text().strip()
        if not st.st_mode & 0o077 and len(token) >= 32:
            return token
        log_event("token.replaced", path=str(path), reason="readable by others" if st.st_mode & 0o077 else "too short")
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(32)
    home_root.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{TOKEN_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask or an old file said
        os.write(fd, (token + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    log_event("token.created", path=str(path))
    return token


def read_token(home_root: Path) -> str | None:
    """The token a client sends (None when the service has not made one yet)."""
    try:
        return token_path(home_root).read_text().strip() or None
    except FileNotFoundError:
        return None


def auth_headers(home_root: Path) -> dict[str, str]:
    """`Authorization` for a client's state-changing requests (empty without a token)."""
    token = read_token(home_root)
    return {"Authorization": f"Bearer {token}"} if token else {}


class RequestGuard:
    """ASGI middleware: refuse foreign hosts and origins (403) and state changes without the
    token (401), as the module docstring says."""

    def __init__(self, app: ASGIApp, token: str, allowed_hosts: Iterable[str] = ()) -> None:
        self.app = app
        self._token = token.encode()
        self._hosts = {"localhost", *(h.lower() for h in allowed_hosts)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        method = scope.get("method", "GET").upper()
        refusal = self.refusal(method, headers)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, error, message, hint = refusal
        log_event("request.refused", status=status, method=method, path=scope.get("path"),
                  origin=headers.get("origin"), reason=error)
        body = json.dumps({"error": error, "message": message, "hint": hint}).encode()
        extra = [(b"www-authenticate", b'Bearer realm="odarchive"')] if status == 401 else []
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()), *extra]})
        await send({"type": "http.response.body", "body": body})

    def refusal(self, method: str, headers: dict[str, str]) -> tuple[int, str, str, str] | None:
        """(status, error, message, hint) for a request to refuse, None to let it through."""
        host = headers.get("host", "")
        if host and not self._host_allowed(host):
            return (403, "ForeignHost", f"requests for host {host!r} are refused",
                    "open the page by its IP address or localhost, or add the name to [service] allowed_hosts")
        if self._cross_origin(method, host, headers):
            return (403, "CrossOrigin", "requests from another origin are refused",
                    "use the page the service itself serves, or the odarchive command")
        if method not in SAFE_METHODS and not self._token_ok(headers.get("authorization", "")):
            return (401, "Unauthorized", "this request changes state and needs the home's token",
                    "send `Authorization: Bearer <token>`; the token is in <home>/service.token")
        return None

    def _host_allowed(self, host: str) -> bool:
        name = host.rsplit("]", 1)[0].lstrip("[") if host.startswith("[") else host.rsplit(":", 1)[0]
        try:
            ipaddress.ip_address(name)
            return True
        except ValueError:
            return name.lower() in self._hosts

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

    def _token_ok(self, authorization: str) -> bool:
        scheme, _, given = authorization.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self._token)
