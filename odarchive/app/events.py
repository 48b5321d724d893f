"""One log line per state change of the service, in a form the journal and grep both read.

`log_event("job.started", id=3, kind="burn", segments="0-3")` logs
`event=job.started id=3 kind=burn segments=0-3` at INFO on the `odarchive.service` logger.
Values that are not plain words are JSON-quoted (`label="a b\\"c"`), so one event is always
one line whatever a name holds; `None` values are left out. Event names are `<thing>.<change>`
(`job.queued`, `job.started`, `job.phase`, `job.finished`, `job.failed`, `lease.granted`...).
The line is the record's message, so an escaping formatter installed by the wiring layer
applies to it as to any other line.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

log = logging.getLogger("odarchive.service")

_BARE = re.compile(r"[A-Za-z0-9_.,:/@+-]+")


def format_event(event: str, **fields: Any) -> str:
    """The line `log_event` writes: `event=NAME key=value ...` in the order given."""
    parts = [f"event={_value(event)}"]
    parts += [f"{key}={_value(value)}" for key, value in fields.items() if value is not None]
    return " ".join(parts)


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one state change as one line (see the module docstring)."""
    if log.isEnabledFor(level):
        log.log(level, "%s", format_event(event, **fields))


def _value(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    if isinstance(value, float):
        value = round(value, 3)
    text = value if isinstance(value, str) else str(value)
    if _BARE.fullmatch(text):
        return text
    # ensure_ascii: control characters, separators and bytes that were not UTF-8 become escapes
    return json.dumps(text, ensure_ascii=True)
