"""Shared pytest setup: fixtures from tests/lib/, and no silent skips in CI.

CI (the environment variable CI=true, as `.ci/run` runs) has every tool the suite needs, so a
test that skips there hides a broken install step: it is reported as a failure instead.
"""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.lib.fixtures"]

# Error correction is on by default ([archive] ecc = "15%"); the tests of disc geometry, images
# and the robot were written for plain images, so they plan without it. tests/integration/
# test_ecc.py turns it back on and checks it end to end (and ./scripts/demo runs with it).
os.environ.setdefault("ODARCHIVE_ARCHIVE_ECC", "off")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must have everything: {report.longrepr}"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Services of module-scoped homes (tmp_path_factory) are stopped at the latest here."""
    from tests.lib.services import stop_services

    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None:
        stop_services(factory.getbasetemp())
