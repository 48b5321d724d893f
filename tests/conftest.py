"""Shared pytest fixtures: see tests/lib/ for the helpers they are built from."""

pytest_plugins = ["tests.lib.fixtures"]
