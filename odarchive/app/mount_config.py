"""The mount's and the cache's configuration: `MountConfig` and `CacheConfig` from settings.

Each is built from its table in `odarchive.toml` (`[mount]`, `[cache]`), then
`ODARCHIVE_MOUNT_*` / `ODARCHIVE_CACHE_*`, then the command's non-None flags; sizes and
durations may carry units ("10G", "30d"). Used by `odarchive mount` and `odarchive cache`.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from odarchive.app.context import Context
from odarchive.errors import InputError


def mount_config(ctx: Context, **flags: Any):  # -> fuse_mount.service.MountConfig
    """MountConfig from `[mount]`, ODARCHIVE_MOUNT_*, then non-None flags; units allowed."""
    from fuse_mount.cache.config import parse_bytes, parse_seconds
    from fuse_mount.service import MountConfig

    values = ctx.settings.section("mount")
    values.update({k: v for k, v in flags.items() if v is not None})
    known = {f.name for f in fields(MountConfig)}
    try:
        for k, v in list(values.items()):
            if k in known and isinstance(v, str) and k.endswith("_s"):
                values[k] = parse_seconds(v)
            elif k in known and isinstance(v, str) and k.endswith("_bytes"):
                values[k] = parse_bytes(v)
    except ValueError as e:
        raise InputError(f"[mount] {e}") from None
    return ctx.settings.build(MountConfig, "mount", **values)


def cache_config(ctx: Context, **flags: Any):  # -> fuse_mount.cache.CacheConfig
    """The CacheConfig from `[cache]`, ODARCHIVE_CACHE_*, then the non-None `flags`.

    Sizes (in the file, the environment or flags) may be written with units ("10G", "64k") and durations as "30d"; a relative `dir`
    is under the home in the file, under the current directory as a flag (default
    `<home>/cache`); `chunk_bytes` is the catalogue's.
    """
    from fuse_mount.cache import CacheConfig
    from fuse_mount.cache.config import parse_bytes, parse_seconds

    values: dict[str, Any] = ctx.settings.section("cache")
    values.update({k: v for k, v in flags.items() if v is not None})
    known = {f.name for f in fields(CacheConfig)}
    try:
        for k, v in list(values.items()):
            if k in known and k.endswith("_bytes") and isinstance(v, str):
                values[k] = parse_bytes(v)
            elif k in known and k.endswith("_s") and isinstance(v, str):
                values[k] = parse_seconds(v)
    except ValueError as e:
        raise InputError(f"[cache] {e}") from None
    if flags.get("dir") is not None:  # a flag is relative to the current directory
        values["dir"] = Path(flags["dir"]).absolute()
    values["dir"] = ctx.home.root / values.get("dir", ctx.home.cache)  # the file's: to the home
    if ctx.home.catalogue.exists():
        with ctx.open_catalogue(readonly=True) as cat:
            chunk = cat.chunk_size
        if values.setdefault("chunk_bytes", chunk) != chunk:
            raise InputError(
                f"[cache] chunk_bytes = {values['chunk_bytes']} differs from the catalogue's chunk size {chunk}",
                hint="remove chunk_bytes from [cache]: cached chunks are verified with the catalogue's per-chunk hashes",
            )
    try:
        return ctx.settings.build(CacheConfig, "cache", **values)
    except ValueError as e:
        raise InputError(str(e), hint="fix [cache] in odarchive.toml or the --cache-* flags") from None
