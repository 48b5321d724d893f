"""Configuration, loaded once by the command line: defaults < odarchive.toml < ODARCHIVE_* < flags.

The file is `<home>/odarchive.toml` with one table per layer (`[archive]`, `[plan]`, `[robot]`,
`[robot.simulator]`, `[mount]`, `[cache]`, `[service]`). An environment variable `ODARCHIVE_<TABLE>_<KEY>`
(e.g. `ODARCHIVE_CACHE_POLICY=size`, `ODARCHIVE_ROBOT_SIMULATOR_SPEED=1000`) overrides a key of the
file; flags override both. Every key, its type and its help are declared once in
`odarchive.options`; each layer turns its table into its own typed frozen dataclass with
`settings.build(CacheConfig, "cache", **flags)`, which reads every value with its option's
type (sizes and durations in the grammar of `odarchive.units`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

from odarchive.errors import InputError
from odarchive.options import BY_TABLE, TABLES

T = TypeVar("T")

# Environment variables that are not `ODARCHIVE_<TABLE>_<KEY>` but short names kept for users.
ENV_ALIASES = {
    "ODARCHIVE_SIM_SPEED": ("robot.simulator", "speed"),
}


@dataclass(frozen=True)
class Settings:
    """The merged file + environment settings, by table name (`"robot.simulator"`)."""

    tables: Mapping[str, Mapping[str, Any]]

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.tables.get(name, {}))

    def build(self, cls: type[T], table: str, /, **flags: Any) -> T:
        """A typed config `cls` (a dataclass) from `table`, with non-None flags on top."""
        values = self.section(table)
        values.update({k: v for k, v in flags.items() if v is not None})
        return build_config(cls, values, table)


def load_settings(config_file: Path, environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    tables: dict[str, dict[str, Any]] = {}
    if config_file.exists():
        try:
            with config_file.open("rb") as f:
                raw = tomllib.load(f)
        except (tomllib.TOMLDecodeError, OSError) as e:
            raise InputError(f"cannot read {config_file}: {e}", hint="fix or remove the file") from None
        _flatten(raw, "", tables)
    known = sorted(tables, key=len, reverse=True)
    for var, value in env.items():
        if var in ENV_ALIASES:
            table, key = ENV_ALIASES[var]
            tables.setdefault(table, {})[key] = value
        elif var.startswith("ODARCHIVE_") and var != "ODARCHIVE_HOME":
            dotted = var[len("ODARCHIVE_") :].lower()
            for table in sorted({*known, *TABLES}, key=len, reverse=True):
                prefix = table.replace(".", "_") + "_"
                if dotted.startswith(prefix):
                    tables.setdefault(table, {})[dotted[len(prefix) :]] = value
                    break
    return Settings(tables)


def _flatten(raw: Mapping[str, Any], prefix: str, out: dict[str, dict[str, Any]]) -> None:
    own: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            _flatten(value, f"{prefix}{key}.", out)
        else:
            own[key] = value
    if own or not prefix:
        out.setdefault(prefix.rstrip(".") or "", {}).update(own)


def build_config(cls: type[T], values: Mapping[str, Any], table: str) -> T:
    """Dataclass `cls` from the settings `values` of `table`, each read with its option's type."""
    assert is_dataclass(cls)
    options = BY_TABLE.get(table, {})
    unknown = set(values) - set(options)
    if unknown:
        raise InputError(
            f"unknown setting(s) in [{table}]: {', '.join(sorted(unknown))}",
            hint=f"known settings: {', '.join(sorted(options))} (docs/options.md)",
        )
    kwargs = {}
    for key, value in values.items():
        opt = options[key]
        try:
            kwargs[key] = opt.parse(value)
        except ValueError as e:
            flag = f" or {opt.flag}" if opt.flag else ""
            raise InputError(
                f"setting [{table}] {key} = {value!r}: {e}",
                hint=f"fix [{table}] {key} in odarchive.toml, {opt.env}{flag}",
            ) from None
    return cls(**kwargs)
