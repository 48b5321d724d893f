"""Configuration, loaded once by the command line: defaults < odarchive.toml < ODARCHIVE_* < flags.

The file is `<home>/odarchive.toml` with one table per layer (`[archive]`, `[scan]`, `[plan]`, `[robot]`,
`[robot.simulator]`, `[mount]`, `[cache]`, `[service]`). An environment variable `ODARCHIVE_<TABLE>_<KEY>`
(e.g. `ODARCHIVE_SCAN_JOBS=4`, `ODARCHIVE_ROBOT_SIMULATOR_SPEED=1000`) overrides a key of the
file; flags override both. Each layer turns its table into its own typed frozen dataclass
with `settings.section("scan")`; this module only merges and converts types.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any, Mapping, TypeVar, get_args, get_type_hints

from odarchive.errors import InputError

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
        return coerce_dataclass(cls, values, table)


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
            dotted = var[len("ODARCHIVE_"):].lower()
            for table in known + ["robot.simulator", "archive", "scan", "plan", "robot", "mount", "cache", "service"]:
                prefix = table.replace(".", "_") + "_"
                if dotted.startswith(prefix):
                    tables.setdefault(table, {})[dotted[len(prefix):]] = value
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


def coerce_dataclass(cls: type[T], values: Mapping[str, Any], where: str) -> T:
    """Build dataclass `cls` from `values`, converting strings (from env) to the field types."""
    assert is_dataclass(cls)
    hints = get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    unknown = set(values) - names
    if unknown:
        raise InputError(
            f"unknown setting(s) in [{where}]: {', '.join(sorted(unknown))}",
            hint=f"known settings: {', '.join(sorted(names))}",
        )
    kwargs = {k: _coerce(v, hints[k], f"{where}.{k}") for k, v in values.items()}
    return cls(**kwargs)  # type: ignore[return-value]


def _coerce(value: Any, typ: Any, where: str) -> Any:
    """Convert `value` (from TOML or an environment string) to the field type `typ`."""
    args = get_args(typ)
    base = next((a for a in args if a is not type(None)), typ) if args else typ
    if value is None and type(None) in args:
        return None
    name = getattr(base, "__name__", str(base))
    try:
        if base is bool:
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError(value)
            return bool(value)
        if base is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if base is float:
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if base is str and not isinstance(value, str):
            raise ValueError(value)
    except (TypeError, ValueError):
        raise InputError(f"setting {where} = {value!r} is not a valid {name}",
                         hint="fix odarchive.toml or the ODARCHIVE_* variable") from None
    return value
