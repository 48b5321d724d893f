"""The root of odarchive's errors and the exit codes the command line maps them to.

Every error carries a message that says what went wrong, a hint that says what to do, and an
exit code. `odarchive.cli` turns them into a message on stderr (or JSON) and that code; it is
the only place that does.
"""

from __future__ import annotations

# Exit codes, listed in `odarchive --help`.
EXIT_OK = 0
EXIT_FAILED = 1  # the command ran but found a problem (e.g. verify mismatch)
EXIT_USAGE = 2  # bad command line
EXIT_INPUT = 3  # bad input: missing source, malformed file, hostile catalogue
EXIT_CATALOGUE = 4  # catalogue missing, locked, corrupt or of a newer schema
EXIT_DISC = 5  # disc planning, image or disc read problem
EXIT_ROBOT = 6  # the robot or a drive failed
EXIT_MOUNT = 7  # mount or cache problem
EXIT_INTERRUPTED = 130  # Ctrl-C; the work done so far is kept
EXIT_PIPE = 141  # stdout was closed by its reader (`| head`): a quiet end, as coreutils (128 + SIGPIPE)

EXIT_CODES = {
    EXIT_OK: "success",
    EXIT_FAILED: "the command ran and found a problem (mismatch, missing disc, ...)",
    EXIT_USAGE: "bad command line",
    EXIT_INPUT: "bad input (missing source, malformed or hostile file)",
    EXIT_CATALOGUE: "catalogue missing, busy, corrupt or newer than this odarchive",
    EXIT_DISC: "disc planning, image or disc problem",
    EXIT_ROBOT: "robot or drive fault",
    EXIT_MOUNT: "mount or cache problem",
    EXIT_INTERRUPTED: "interrupted; work done so far is kept and the next run continues",
    EXIT_PIPE: "the output was closed by its reader (e.g. `| head`); nothing is printed",
}


class OdarchiveError(Exception):
    """Base of all odarchive errors: a message, a hint for the user, an exit code."""

    exit_code: int = EXIT_FAILED
    hint: str = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(OdarchiveError):
    exit_code = EXIT_USAGE
    hint = "see `odarchive COMMAND --help`"


class InputError(OdarchiveError):
    exit_code = EXIT_INPUT


class CatalogueError(OdarchiveError):
    exit_code = EXIT_CATALOGUE


class DiscError(OdarchiveError):
    exit_code = EXIT_DISC


class MountError(OdarchiveError):
    exit_code = EXIT_MOUNT


class CheckFailed(OdarchiveError):
    """A check (verify, restore) ran to the end and found problems."""

    exit_code = EXIT_FAILED
