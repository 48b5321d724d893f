"""The registry of commands: name, aliases, one-line help and the module that implements it.

Each module `odarchive.cli.<module>` defines `add_arguments(parser)` and
`run(args, ctx) -> int`. Modules are imported when the parser is built (only the command's
own when the command line names one); they import heavy libraries (pycdlib, mfusepy,
pyserial) inside `run`, never at module level.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class CommandSpec:
    name: str
    module: str
    help: str
    aliases: tuple[str, ...] = ()
    reports: bool = True
    """Takes `--json` (odarchive.cli.json_flag); commands with actions give it to each action."""


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "create_db", "scan_cmd", "catalogue and hash a source tree (incremental, resumable)", ("scan", "create-db")
    ),
    CommandSpec("get_info", "info_cmd", "summarise the catalogue", ("get-info", "info")),
    CommandSpec("status", "status_cmd", "show what is running on this home now"),
    CommandSpec(
        "export_json", "json_cmd", "write the catalogue as the seed's catalogue.json (version 1)", ("export-json",)
    ),
    CommandSpec(
        "import_json", "json_cmd", "read a seed catalogue.json (version 1) into the catalogue", ("import-json",)
    ),
    CommandSpec("demo", "demo_cmd", "run the main job on built-in sample data, step by step", reports=False),
    CommandSpec(
        "cache", "cache_cmd", "mount cache: stats, evict, pin, replay the access trace to tune eviction", reports=False
    ),
    CommandSpec("mount", "mount_cmd", "mount every burned disc as one read-only file system", reports=False),
    CommandSpec("umount", "umount_cmd", "unmount the archive", ("unmount",), reports=False),
    CommandSpec(
        "plan_iso", "plan_iso_cmd", "plan unplaced content onto new discs of a given size", ("plan-iso", "plan")
    ),
    CommandSpec("num_isos", "num_isos_cmd", "print the number of planned discs", ("num-isos",), reports=False),
    CommandSpec(
        "create_iso",
        "create_iso_cmd",
        "write disc images (UDF 2.60 + ISO 9660 + Joliet)",
        ("write_iso", "create-iso", "write-iso"),
    ),
    CommandSpec("restore", "restore_cmd", "restore files from disc images into a directory, every hash checked"),
    CommandSpec("rebuild", "rebuild_cmd", "recover the catalogue from disc images alone (into an empty home)"),
    CommandSpec("verify", "verify_cmd", "check disc images against their SHA256SUMS and the catalogue"),
    CommandSpec("scrub", "scrub_cmd", "read burned discs back, check them, record their health (--history shows it)"),
    CommandSpec("whereis", "whereis_cmd", "which discs (every copy) hold archived paths, and where those discs are"),
    CommandSpec("repair", "repair_cmd", "repair damaged disc images with their error correction (dvdisaster RS02)"),
    CommandSpec("serve", "serve_cmd", "run the archive service that owns the robot (--stop stops it)"),
    CommandSpec(
        "robot",
        "robot_cmd",
        "drive the disc robot: status, inventory, load, unload, reset, simulate, burn",
        reports=False,
    ),
)

_BY_NAME = {spec.name: spec for spec in COMMANDS}
_BY_WORD = {word: spec for spec in COMMANDS for word in (spec.name, *spec.aliases)}


def named(word: str) -> CommandSpec | None:
    """The command `word` names (its name or an alias), if any."""
    return _BY_WORD.get(word)


def load_command(name: str) -> ModuleType:
    return importlib.import_module(f"odarchive.cli.{_BY_NAME[name].module}")
