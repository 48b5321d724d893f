"""`--json`, declared once: the parent parser of every command and action that reports.

Commands list it in `odarchive.cli.commands` (`reports=True`); commands with actions
(`robot status`, `cache stats`, ...) give it to each action's parser as `parents=[JSON]`.
"""

from __future__ import annotations

import argparse

JSON = argparse.ArgumentParser(add_help=False)
JSON.add_argument(
    "--json",
    action="store_true",
    help="print the result as JSON on stdout (progress, where there is any, as JSON lines on stderr)",
)
