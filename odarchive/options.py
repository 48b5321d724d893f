"""Every setting, declared once: its table, key, type and help (in the style of rclone's
`vfs/vfscommon/options.go`).

From this table derive the `odarchive.toml` key (`[cache] max_bytes`), the environment
variable (`ODARCHIVE_CACHE_MAX_BYTES`), the command-line flag where a command offers one
(`--cache-size`) and how a value is read: sizes and durations in the one grammar of
`odarchive.units` ("10G" = 10*10^9, "10GiB" = 10*2^30; "30d", "1h30m"), whichever of the three
it came from. The typed frozen dataclass each layer builds from its table (`CacheConfig`,
`MountConfig`, ...) keeps the defaults; a test holds the two to the same keys.
`python -m odarchive.options` prints the table as Markdown (docs/options.md).
"""

from __future__ import annotations

import argparse
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from odarchive.units import DURATION_HELP, SIZE_HELP, format_duration, format_size, parse_duration, parse_size


class Kind(enum.Enum):
    SIZE = "size"
    DURATION = "duration"
    INT = "integer"
    FLOAT = "number"
    BOOL = "true/false"
    STR = "text"
    LIST = "list"
    PATH = "path"
    OPTIONAL_DURATION = "duration or unset"


@dataclass(frozen=True)
class Option:
    table: str
    key: str
    kind: Kind
    help: str
    flag: str | None = None
    """The command-line flag of the commands that offer this setting, if any."""

    @property
    def env(self) -> str:
        return f"ODARCHIVE_{self.table.replace('.', '_')}_{self.key}".upper()

    @property
    def dest(self) -> str:
        """The argparse destination of the flag."""
        return f"{self.table.replace('.', '_')}__{self.key}"

    def parse(self, value: Any) -> Any:
        """`value` from TOML, the environment (a string) or a flag, as this option's type."""
        return _PARSE[self.kind](value)

    def show(self, value: Any) -> str:
        """`value` as a person writes it (the grammar `parse` reads)."""
        if self.kind is Kind.SIZE:
            return format_size(value)
        if self.kind in (Kind.DURATION, Kind.OPTIONAL_DURATION) and value is not None:
            return format_duration(value)
        return str(value)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(value, str) and value.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"not true or false: {value!r}")


def _int(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"not a whole number: {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"not a whole number: {value!r}") from None


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"not a number: {value!r}") from None


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"not text: {value!r}")
    return value


def _path(value: Any) -> Path:
    if not isinstance(value, (str, Path)) or not str(value):
        raise ValueError(f"not a path: {value!r}")
    return Path(value)


def _list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):  # the environment: comma-separated
        return tuple(v for v in value.split(",") if v)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"not a list of text: {value!r}")


def _optional_duration(value: Any) -> float | None:
    return None if value is None or value == "" else parse_duration(value)


_PARSE = {
    Kind.SIZE: parse_size,
    Kind.DURATION: parse_duration,
    Kind.INT: _int,
    Kind.FLOAT: _float,
    Kind.BOOL: _bool,
    Kind.STR: _str,
    Kind.LIST: _list,
    Kind.PATH: _path,
    Kind.OPTIONAL_DURATION: _optional_duration,
}

S, D, N, F, B, T, L = Kind.SIZE, Kind.DURATION, Kind.INT, Kind.FLOAT, Kind.BOOL, Kind.STR, Kind.LIST

OPTIONS: tuple[Option, ...] = (
    # [archive]: what every new disc gets (docs/integrity.md)
    Option("archive", "ecc", T, 'error correction of new discs: "15%" or "off"', "--ecc"),
    Option("archive", "copies", N, "discs burned of each image, one per set (A, B, ...)", "--copies"),
    # [plan]
    Option("plan", "label", T, "volume label prefix of new discs", "--label"),
    Option(
        "plan", "reserve_bytes", S, "room kept on each disc for its catalogue (0: 0.2% of the disc, at least 64 KiB)"
    ),
    Option(
        "plan", "split_free_fraction", F, "a file is split rather than leave more than this fraction of a disc empty"
    ),
    Option("plan", "min_piece_bytes", S, "smallest piece of a split file"),
    # [robot] (docs/robot-protocols.md)
    Option("robot", "driver", T, "simulator, serial, generic, mtx or manual"),
    Option("robot", "device", T, "serial port, SCSI changer (/dev/sgN) for mtx, or the manual driver's drive"),
    Option("robot", "drive_devices", L, "drives in changer order: /dev/sr0, ... or stdio:FILE"),
    Option("robot", "slots", N, "simulator: number of slots (0: [robot.simulator] slots)"),
    Option("robot", "drives", N, "simulator: number of drives (0: [robot.simulator] drives)"),
    Option("robot", "baudrate", N, "serial line speed"),
    Option("robot", "reply_timeout_s", D, "how long a command's reply may take"),
    Option("robot", "motion_timeout_s", D, "how long a motion (load, unload, transfer) may take"),
    Option("robot", "media_timeout_s", D, "how long a loaded medium may take to become ready"),
    Option("robot", "retries", N, "times a command is retried after a line error"),
    Option("robot", "reconnect_s", D, "how long a lost serial adapter is waited for"),
    Option("robot", "mtx_command", T, "the mtx program"),
    Option("robot", "xorriso", T, "the xorriso program"),
    Option("robot", "max_attempts", N, "blanks tried per disc before `robot burn` gives up on it"),
    # [robot.simulator]
    Option("robot.simulator", "slots", N, "slots of the simulated changer"),
    Option("robot.simulator", "drives", N, "drives of the simulated changer"),
    Option("robot.simulator", "mail_slots", N, "mail slots (import/export)"),
    Option("robot.simulator", "blanks", N, "blank media put into slots 1..blanks at creation"),
    Option("robot.simulator", "dialect", T, '"slot" (Pioneer-style lines) or "generic" (bin autoloader)'),
    Option("robot.simulator", "speed", F, "divides every timing (ODARCHIVE_SIM_SPEED)"),
    Option("robot.simulator", "capacity_bytes", S, "capacity of a simulated blank"),
    Option("robot.simulator", "load_s", D, "slot to drive, tray closed"),
    Option("robot.simulator", "unload_s", D, "drive to slot"),
    Option("robot.simulator", "transfer_s", D, "slot to slot"),
    Option("robot.simulator", "mail_s", D, "mail slot to slot and back"),
    Option("robot.simulator", "reset_s", D, "re-homing the picker"),
    Option("robot.simulator", "spinup_s", D, "a loaded medium becomes readable"),
    Option("robot.simulator", "write_bytes_per_s", F, "burn speed (18000000: 4x BD-R)"),
    Option("robot.simulator", "read_bytes_per_s", F, "read speed (0: the file's; 72000000: BD 16x)"),
    Option("robot.simulator", "reply_s", D, "latency of one reply on the line"),
    Option("robot.simulator", "idle_exit_s", D, "the simulator exits after this long without commands"),
    Option("robot.simulator", "faults", L, 'faults to inject: "jam 2", "miss 6", "drop 20", ...'),
    # [mount] (docs/mount.md)
    Option("mount", "foreground", B, "serve in this process until unmounted (for systemd)", "--foreground"),
    Option("mount", "allow_other", B, "let other users read the mount", "--allow-other"),
    Option("mount", "disc_timeout_s", D, "reads waiting longer for their disc fail with EIO", "--disc-timeout"),
    Option("mount", "images", T, "read discs from the image files in DIR instead of the robot", "--images"),
    Option("mount", "image_drives", N, "with images: how many images are read at once"),
    Option("mount", "whole_max_bytes", S, "contents up to this size are fetched and verified whole"),
    Option("mount", "read_ahead_chunks", N, "chunks fetched beyond a read of a large content"),
    Option("mount", "fault_hold_s", D, "after a disc failed, new reads of it fail at once for this long"),
    Option(
        "mount",
        "gather_s",
        Kind.OPTIONAL_DURATION,
        "requests are gathered this long before a disc is loaded (and a drive stays on its disc this long"
        " after its last waiting read)",
    ),
    Option("mount", "refresh_s", D, "how often the catalogue is checked for new snapshots and discs"),
    Option("mount", "attr_timeout_s", D, "how long the kernel may cache names and attributes"),
    # [cache] (docs/cache.md)
    Option(
        "cache", "dir", Kind.PATH, "cache directory (default <home>/cache; not inside the mountpoint)", "--cache-dir"
    ),
    Option("cache", "max_bytes", S, "upper bound on cached bytes (0: none)", "--cache-size"),
    Option("cache", "max_age_s", D, "evict data not read for this long (0: never)", "--cache-max-age"),
    Option("cache", "min_free_bytes", S, "keep this much free space on the cache disk", "--cache-min-free"),
    Option("cache", "policy", T, "eviction policy: lru, size or lfu", "--cache-policy"),
    Option("cache", "keep_heads_bytes", S, "keep the first bytes of every file cached longest", "--keep-heads"),
    Option("cache", "chunk_bytes", S, "contents are cached in chunks of this size (the catalogue's)"),
    Option("cache", "trace", B, "record every access in <dir>/trace.jsonl (for `cache replay`)"),
    Option("cache", "trace_max_bytes", S, "the trace is rotated past this size"),
    # [service] (docs/service.md)
    Option("service", "listen", T, 'TCP address of the page and the API (HOST:PORT; "" for none)', "--listen"),
    Option("service", "read_drives", N, "drives kept free for reads while reads wait"),
    Option("service", "burn_max_wait_s", D, "a burn waiting longer gets the next free drive even while reads wait"),
    Option("service", "read_timeout_s", D, "a read not granted a drive within this long fails naming the disc"),
    Option("service", "start_timeout_s", D, "how long a command waits for a service it started"),
    Option("service", "scrub", T, 'scrub discs not read back for this long while no read or burn waits ("30d"; "off")'),
)

BY_TABLE: dict[str, dict[str, Option]] = {}
for _opt in OPTIONS:
    BY_TABLE.setdefault(_opt.table, {})[_opt.key] = _opt
TABLES = tuple(BY_TABLE)


def add_flags(parser: argparse.ArgumentParser, *tables: str) -> None:
    """The flags of every option of `tables` that has one (default None: not given)."""
    for opt in OPTIONS:
        if opt.table in tables and opt.flag:
            if opt.kind is Kind.BOOL:
                parser.add_argument(opt.flag, dest=opt.dest, action="store_true", default=None, help=opt.help)
            else:
                grammar = {Kind.SIZE: f" ({SIZE_HELP})", Kind.DURATION: f" (e.g. {DURATION_HELP})"}.get(opt.kind, "")
                parser.add_argument(opt.flag, dest=opt.dest, metavar=opt.kind.name, help=opt.help + grammar)


def flag_values(args: argparse.Namespace, table: str) -> dict[str, Any]:
    """{key: value} of the flags of `table` given on this command line."""
    return {
        o.key: getattr(args, o.dest)
        for o in BY_TABLE[table].values()
        if o.flag and getattr(args, o.dest, None) is not None
    }


def flag_argv(args: argparse.Namespace, *tables: str) -> list[str]:
    """The flags of `tables` given on this command line, as arguments for another process."""
    argv: list[str] = []
    for table in tables:
        for key, value in flag_values(args, table).items():
            opt = BY_TABLE[table][key]
            argv += [opt.flag] if opt.kind is Kind.BOOL else [opt.flag, str(value)]  # type: ignore[list-item]
    return argv


def markdown(options: Iterable[Option] = OPTIONS) -> str:
    """The table as Markdown, for docs/options.md."""
    lines = ["| `odarchive.toml` | environment | flag | type | what it is |", "|---|---|---|---|---|"]
    lines += [
        f"| `[{o.table}] {o.key}` | `{o.env}` | {f'`{o.flag}`' if o.flag else ''} | {o.kind.value} | {o.help} |"
        for o in options
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
