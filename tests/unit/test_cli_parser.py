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


def test_a_command_line_loads_only_the_command_it_names():
    full = _subparsers(build_parser())
    bare = _subparsers(build_parser(["num_isos"]))  # every other command as listed in --help only

    def loaded(parsers: dict[str, argparse.ArgumentParser]) -> set[str]:
        return {spec.name for spec in COMMANDS if len(parsers[spec.name]._actions) == len(full[spec.name]._actions)}

    with_arguments = {spec.name for spec in COMMANDS if len(bare[spec.name]._actions) < len(full[spec.name]._actions)}
    assert {"create_db", "get_info", "mount", "robot"} <= with_arguments
    always = {spec.name for spec in COMMANDS} - with_arguments  # commands without arguments of their own
    for argv, command in (
        (["create_db", "src"], "create_db"),
        (["--home", "h", "-v", "scan", "src"], "create_db"),  # an alias, after the global options
        (["--home=h", "get-info"], "get_info"),
    ):
        assert loaded(_subparsers(build_parser(argv))) == always | {command}, argv
    # anything else (top-level help, a mistyped command) gets every command, so argparse can say what is wrong
    for argv in (["--help"], ["creat_db"], [], ["--home"]):
        assert loaded(_subparsers(build_parser(argv))) == {spec.name for spec in COMMANDS}, argv


def test_the_options_of_the_command_named_are_parsed(cli, tmp_path):
    r = cli("create_db", "--jobs", "x", str(tmp_path))
    assert r.code == 2 and "invalid int value" in r.err
