"""The command line: `odarchive [--home DIR] COMMAND ...`.

Commands are registered by name in `odarchive.cli.commands` and their modules imported only
when used, so `--help` needs neither libfuse nor pyserial. `main(argv) -> int` runs in-process
(tests call it directly); it is the one error boundary that maps exceptions to exit codes.
It parses arguments and renders results; the wiring of the core, `robot_drivers` and
`fuse_mount` lives in `odarchive.app`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from odarchive.app.context import Context
from odarchive.cli.commands import COMMANDS, CommandSpec, load_command, named
from odarchive.cli.json_flag import JSON
from odarchive.cli.render import print_error
from odarchive.errors import EXIT_CODES, EXIT_INPUT, EXIT_INTERRUPTED, EXIT_PIPE, EXIT_USAGE, OdarchiveError
from odarchive.shown import EscapingFormatter

log = logging.getLogger("odarchive")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command; given the command line, only the command it names gets its
    arguments (importing each command's module took 40 ms of every run; the others still
    appear in `--help`, with their one-line help)."""
    only = _command_in(argv) if argv is not None else None
    codes = "\n".join(f"  {code:>3}  {text}" for code, text in EXIT_CODES.items())
    parser = argparse.ArgumentParser(
        prog="odarchive",
        description="Archive file systems onto optical discs and read them back as one file system.",
        epilog=f"exit codes:\n{codes}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--home", help="archive home directory (default: $ODARCHIVE_HOME, else the current directory)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for spec in COMMANDS:
        p = sub.add_parser(
            spec.name,
            aliases=list(spec.aliases),
            help=spec.help,
            description=spec.help,
            parents=[JSON] if spec.reports else [],
        )
        p.set_defaults(_command=spec.name)
        if only is None or spec is only:
            load_command(spec.name).add_arguments(p)
    return parser


def _command_in(argv: Sequence[str]) -> CommandSpec | None:
    """The command `argv` names: its first word after the global options (None when that word
    is something else, such as --help or a mistyped command: then every command is loaded)."""
    words = iter(argv)
    for word in words:
        if word == "--home":
            next(words, None)
        elif not (word.startswith("--home=") or word in ("-v", "--verbose")):
            return named(word)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(words)
    try:
        args = parser.parse_args(words)
    except SystemExit as e:  # argparse exits on --help (0) and on usage errors (2)
        return int(e.code or 0) if e.code in (0, None) else EXIT_USAGE
    if not getattr(args, "_command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    _log_to_stderr(logging.DEBUG if args.verbose else logging.WARNING)
    as_json = bool(getattr(args, "json", False))
    try:
        ctx = Context.create(args)
        code = int(load_command(args._command).run(args, ctx) or 0)
        sys.stdout.flush()  # a closed stdout shows here, inside the boundary, not at exit
        return code
    except OdarchiveError as e:
        print_error(str(e), e.hint, e.exit_code, type(e).__name__, as_json)
        return e.exit_code
    except BrokenPipeError:
        if not _stdout_closed():
            raise  # some other pipe (a child process): an error like any other
        return EXIT_PIPE
    except (RecursionError, OverflowError) as e:  # input that escaped its checks: refuse, never a traceback
        what = "nested too deeply" if isinstance(e, RecursionError) else "holds a number out of range"
        print_error(
            f"the input {what} to be an odarchive file",
            "give a file written by odarchive",
            EXIT_INPUT,
            "InputError",
            as_json,
        )
        return EXIT_INPUT
    except KeyboardInterrupt:
        print_error("interrupted", "run the same command again to continue", EXIT_INTERRUPTED, "Interrupted", as_json)
        return EXIT_INTERRUPTED
    except Exception as e:
        classified, hint = _classify(e)
        if classified is None:
            raise
        print_error(str(e), hint, classified, type(e).__name__, as_json)
        return classified


def _log_to_stderr(level: int) -> None:
    """Log lines on stderr with every message escaped (names in them come from sources and
    discs; this covers fuse_mount and robot_drivers too, which cannot import odarchive).
    Like `logging.basicConfig`, it leaves a logging setup that is already there alone."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(EscapingFormatter("odarchive: %(levelname)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)


def _stdout_closed() -> bool:
    """Whether stdout is a pipe whose reader went away (`odarchive ... | head`). If so, stdout
    is pointed at /dev/null so that the interpreter's last flush stays quiet too."""
    import select

    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    poller = select.poll()
    poller.register(fd, 0)
    if not any(ev & select.POLLERR for _, ev in poller.poll(0)):
        return False
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
    return True


def _classify(e: Exception) -> tuple[int | None, str]:
    """Exit code and hint for exceptions from outside odarchive.errors (None: a bug, re-raise)."""
    import errno

    from odarchive.catalogue.failures import hint_for
    from odarchive.errors import EXIT_CATALOGUE, EXIT_FAILED

    code = getattr(e, "exit_code", None)  # robot_drivers and fuse_mount errors carry their own
    if isinstance(code, int):
        return code, getattr(e, "hint", "")
    hint = hint_for(e)
    if hint is not None:
        return EXIT_CATALOGUE, hint
    if isinstance(e, OSError):
        if e.errno == errno.ENOSPC:
            return EXIT_FAILED, "free some space and run the command again; the work done so far is kept"
        return EXIT_FAILED, "check the path and its permissions"
    return None, ""


def console_main() -> None:
    sys.exit(main())
