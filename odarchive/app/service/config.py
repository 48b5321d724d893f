"""The `[service]` table of odarchive.toml (`ODARCHIVE_SERVICE_<KEY>` in the environment)."""

from __future__ import annotations

from dataclasses import dataclass

from odarchive.app.context import Context
from odarchive.errors import UsageError


@dataclass(frozen=True)
class ServiceConfig:
    listen: str = "127.0.0.1:8780"
    """TCP address of the page and the API (HOST:PORT; port 0 picks one; "" turns it off)."""
    read_drives: int = 1
    """Drives kept free for reads while reads wait (burns never take the last ones)."""
    burn_max_wait_s: float = 1800.0
    """A burn waiting longer than this gets the next free drive even while reads wait."""
    read_timeout_s: float = 600.0
    """A read lease not granted within this long fails with an error naming the disc."""
    start_timeout_s: float = 60.0
    """How long a command waits for a service it started to answer."""
    scrub: str = "30d"
    """Background scrub: a disc in the changer not read back for this long is scrubbed while
    no read or burn waits ("30d", "12h"; "off": never). `odarchive.app.service.scrubber`."""

    @property
    def scrub_s(self) -> float | None:
        """`scrub` in seconds (None: off)."""
        from odarchive.app.scrub import scrub_interval_s

        return scrub_interval_s(self.scrub)


def service_config(ctx: Context, **flags: object) -> ServiceConfig:
    conf = ctx.settings.build(ServiceConfig, "service", **flags)
    if conf.listen:
        parse_listen(conf.listen)
    if conf.read_drives < 0:
        raise UsageError(f"[service] read_drives = {conf.read_drives} must be 0 or more")
    conf.scrub_s  # noqa: B018 -- a bad [service] scrub is an error now, not when the service starts scrubbing
    return conf


def parse_listen(text: str) -> tuple[str, int]:
    """HOST:PORT -> (host, port); UsageError for anything else."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise UsageError(
            f"bad listen address {text!r}: use HOST:PORT, e.g. 127.0.0.1:8780", hint='`listen = ""` turns TCP off'
        )
    return host.strip("[]"), int(port)
