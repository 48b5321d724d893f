"""The command line's shape: `--json` is one option shared by every command and action that
reports, and the commands that do not report do not take it."""

from __future__ import annotations

import argparse

from odarchive.cli import build_parser
from odarchive.cli.commands import COMMANDS
from odarchive.cli.json_flag import JSON


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {name: p for name, p in action.choices.items()}


def test_json_is_declared_once_for_every_command_and_action_that_reports():
    shared = JSON._option_string_actions["--json"]
    commands = _subparsers(build_parser())
    seen = 0
    for spec in COMMANDS:
        parser = commands[spec.name]
        own = parser._option_string_actions.get("--json")
        if spec.reports:
            assert own is shared, spec.name
            seen += 1
        else:
            assert own is None, spec.name
            nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
            for name, action_parser in (_subparsers(parser) if nested else {}).items():
                assert action_parser._option_string_actions.get("--json") is shared, (spec.name, name)
                seen += 1
    assert seen > 25


def test_json_output_of_a_command_and_of_an_action(cli):
    assert cli("status", "--json").json()["jobs"] == []
    r = cli("cache", "stats", "--json")
    assert r.code == 0 and r.json()["hits"] == 0
