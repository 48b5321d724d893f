"""The home's service token (`<home>/service.token`, mode 0600), created at the first start.

Every request that changes state (leases, robot motions, jobs, stop) carries it as
`Authorization: Bearer <token>`; reading the file proves the caller may use the home.
"""

from __future__ import annotations

import hmac
import os
import secrets

from odarchive.app.events import log_event
from odarchive.home import Home


def ensure_token(home: Home) -> str:
    """The token, created (0600, 32 random bytes as hex) if the home has none yet. A token
    file that group or others may read is replaced: the token may have been read."""
    path = home.service_token
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            log_event("token.replaced", path=str(path), reason="readable by others")
            return _replace(home)
        return read_token(home) or _replace(home)
    token = secrets.token_hex(32)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token


def _replace(home: Home) -> str:
    home.service_token.unlink(missing_ok=True)
    return ensure_token(home)


def read_token(home: Home) -> str | None:
    try:
        return home.service_token.read_text().strip() or None
    except OSError:
        return None


def auth_headers(home: Home) -> dict[str, str]:
    token = read_token(home)
    return {"Authorization": f"Bearer {token}"} if token else {}


def token_matches(expected: str, header: str | None) -> bool:
    """Whether an Authorization header carries `expected` (constant-time compare)."""
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())
