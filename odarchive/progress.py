"""Progress reporting: library code takes a `Reporter` and never prints.

The default `NullReporter` does nothing; the command line supplies one that draws a tqdm bar
on a terminal or writes JSON lines (`odarchive.cli.render`). A reporter may be called from
several threads; implementations must be thread-safe.
"""

from __future__ import annotations

from typing import Any, Protocol


class Reporter(Protocol):
    def start(self, phase: str, total_items: int | None = None, total_bytes: int | None = None) -> None:
        """A new phase begins (`scan`, `hash`, `write`, ...); totals may be unknown."""

    def advance(self, items: int = 0, nbytes: int = 0) -> None:
        """Some items and bytes of the current phase are done."""

    def event(self, kind: str, **fields: Any) -> None:
        """Something worth telling the user (`skipped`, `warning`, ...), with details."""

    def finish(self) -> None:
        """The current phase is over."""


class NullReporter:
    """A reporter that ignores everything: the default for library calls and tests."""

    def start(self, phase: str, total_items: int | None = None, total_bytes: int | None = None) -> None:
        pass

    def advance(self, items: int = 0, nbytes: int = 0) -> None:
        pass

    def event(self, kind: str, **fields: Any) -> None:
        pass

    def finish(self) -> None:
        pass
