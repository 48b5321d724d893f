"""What the service's jobs do, through the same library calls as the commands.

- **burn** `{"segments": "0-3" | "3,5" | "all"}` (default `all`): `robot burn --segments`,
  discs already verified skipped; taken under the home's image-build lock like the command.
- **rescan** `{"source": ROOT_NAME, "size": MEDIUM}`: "rerun and post changes". `create_db`
  of the source's path as the catalogue last recorded it (incremental: only what changed is
  hashed), `plan_iso` of the unplaced content onto new discs (`size` defaults to the medium
  of the newest planned disc), then a burn of just the new discs. Nothing new: no burn.

Requests are checked before they are queued (an unknown disc or source, a source path that
is gone, a bad medium) so the client gets its error at once (JobRequestError). The burn is
handed in (`burn(spec, reporter) -> result`): the service passes its scheduler's burn.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol

from odarchive.app.job_manager import JobRequestError
from odarchive.catalogue import Catalogue
from odarchive.catalogue import discs as disc_rows
from odarchive.config import Settings
from odarchive.errors import OdarchiveError
from odarchive.home import Home
from odarchive.jobs import exclusive
from odarchive.progress import Reporter

BurnFn = Callable[[str, Reporter], dict[str, Any]]


class StepReporter(Reporter, Protocol):
    def begin_step(self, step: str) -> None:
        """A step of the job (scan, plan, burn) begins."""


class ArchiveSteps:
    """The `JobSteps` of a home: scan, plan and burn as the commands do them."""

    def __init__(self, home: Home, settings: Settings, burn: BurnFn) -> None:
        self.home, self.settings, self._burn = home, settings, burn

    # ---- burn ----
    def check_burn(self, params: dict[str, Any]) -> dict[str, Any]:
        from odarchive.burnlog import BurnLog
        from odarchive.selection import parse_disc_selection

        spec = _text(params, "segments", default="all")
        with self._catalogue() as cat:
            known = [d.disc for d in BurnLog(cat).discs()]
        if not known:
            raise JobRequestError("no disc is planned yet", hint="plan discs first (`odarchive plan_iso SIZE`)")
        discs = _checked(lambda: parse_disc_selection(spec, known, what="segments"))
        return {"segments": spec, "discs": discs}

    def run_burn(self, params: dict[str, Any], reporter: StepReporter) -> dict[str, Any]:
        reporter.begin_step("burn")
        return self._burned(params["segments"], reporter)

    # ---- rescan: create_db + plan_iso + burn of the new discs ----
    def check_rescan(self, params: dict[str, Any]) -> dict[str, Any]:
        from odarchive.plan.media import parse_size
        from odarchive.scan import check_source

        name = _text(params, "source")
        with self._catalogue() as cat:
            source = cat.source_by_name(os.fsencode(name))
            if source is None:
                known = ", ".join(os.fsdecode(s.root_name) for s in cat.sources()[:20]) or "none"
                raise JobRequestError(f"no source {name!r} in the catalogue", hint=f"sources: {known}")
            last_capacity = disc_rows.last_capacity(cat.conn)
        size = params.get("size")
        if size not in (None, ""):
            capacity = _checked(lambda: parse_size(_text(params, "size")))
        elif last_capacity is not None:
            capacity = last_capacity
        else:
            raise JobRequestError(
                "no disc is planned yet, so the medium is not known",
                hint='say it: "size": "bluray" (or dvd, cd, bd-dl, 4G, ...)',
            )
        path = os.fsdecode(source.path)
        _checked(lambda: check_source(path))
        return {"source": name, "path": path, "capacity_bytes": capacity}

    def run_rescan(self, params: dict[str, Any], reporter: StepReporter) -> dict[str, Any]:
        from odarchive.plan.planner import PlanConfig, plan
        from odarchive.scan import ScanOptions, scan_source

        reporter.begin_step("scan")
        with self._catalogue() as cat, exclusive(self.home.jobs, "scan", "a scan"):
            summary = scan_source(cat, params["path"], ScanOptions(root_name=os.fsencode(params["source"])), reporter)
            reporter.begin_step("plan")
            new = plan(cat, params["capacity_bytes"], self.settings.build(PlanConfig, "plan"), reporter=reporter)
        result: dict[str, Any] = {"scan": vars(summary), "planned": [d.disc_id for d in new], "burn": None}
        if new:
            reporter.begin_step("burn")
            result["burn"] = self._burned(",".join(str(d.disc_id) for d in new), reporter)
        return result

    # ---- what the page offers ----
    def choices(self) -> dict[str, Any]:
        with self._catalogue() as cat:
            sources = []
            for src in cat.sources():
                snap = cat.latest_snapshot(src.id)
                sources.append(
                    {
                        "name": os.fsdecode(src.root_name),
                        "path": os.fsdecode(src.path),
                        "last_scan_ns": snap.finished_ns if snap else None,
                    }
                )
            states = disc_rows.count_by_state(cat.conn)
            waiting = disc_rows.not_verified(cat.conn, 1000)
        return {"sources": sources, "discs": {"by_state": states, "not_burned": waiting}}

    def _burned(self, spec: str, reporter: Reporter) -> dict[str, Any]:
        # a burn builds images as needed: never alongside a create_iso on the same home
        with exclusive(self.home.jobs, "create_iso", "an image build (create_iso or robot burn)"):
            return self._burn(spec, reporter)

    def _catalogue(self) -> Catalogue:
        if not self.home.catalogue.is_file():
            raise JobRequestError(f"no catalogue in {self.home.root}", hint="run `odarchive create_db SOURCE` first")
        return Catalogue.open(self.home.catalogue)


def _text(params: dict[str, Any], key: str, default: str | None = None) -> str:
    value = params.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise JobRequestError(f"{key!r} must be a non-empty string", hint="see docs/service.md, POST /api/jobs")
    return value


def _checked(fn: Callable[[], Any]) -> Any:
    """`fn()`, its usage, input or disc errors turned into JobRequestError (a 400)."""
    try:
        return fn()
    except JobRequestError:
        raise
    except OdarchiveError as e:
        raise JobRequestError(e.message, hint=e.hint) from None
