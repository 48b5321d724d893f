"""The mount's and the cache's configuration: `MountConfig` and `CacheConfig` from settings.

Each is built from its table in `odarchive.toml` (`[mount]`, `[cache]`), then
`ODARCHIVE_MOUNT_*` / `ODARCHIVE_CACHE_*`, then the command's non-None flags; every value is
read with its type from `odarchive.options` (sizes "10G" / "10GiB", durations "30d"). Used by
`odarchive mount` and `odarchive cache`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from odarchive.app.context import Context
from odarchive.errors import InputError

if TYPE_CHECKING:
    from fuse_mount.cache import CacheConfig
    from fuse_mount.service import MountConfig


def mount_config(ctx: Context, **flags: Any) -> MountConfig:
    """MountConfig from `[mount]`, ODARCHIVE_MOUNT_*, then the non-None `flags`."""
    from fuse_mount.service import MountConfig

    return ctx.settings.build(MountConfig, "mount", **flags)


def cache_config(ctx: Context, **flags: Any) -> CacheConfig:
    """The CacheConfig from `[cache]`, ODARCHIVE_CACHE_*, then the non-None `flags`.

    A relative `dir` is under the home in the file, under the current directory as a flag
    (default `<home>/cache`); `chunk_bytes` is the catalogue's.
    """
    from fuse_mount.cache import CacheConfig

    values: dict[str, Any] = ctx.settings.section("cache")
    values.update({k: v for k, v in flags.items() if v is not None})
    if flags.get("dir") is not None:  # a flag is relative to the current directory
        values["dir"] = Path(flags["dir"]).absolute()
    values["dir"] = ctx.home.root / values.get("dir", ctx.home.cache)  # the file's: to the home
    chunk = None
    if ctx.home.catalogue.exists():
        with ctx.open_catalogue(readonly=True) as cat:
            chunk = cat.chunk_size
        values.setdefault("chunk_bytes", chunk)
    try:
        conf = ctx.settings.build(CacheConfig, "cache", **values)
    except ValueError as e:
        raise InputError(str(e), hint="fix [cache] in odarchive.toml or the --cache-* flags") from None
    if chunk is not None and conf.chunk_bytes != chunk:
        raise InputError(
            f"[cache] chunk_bytes = {conf.chunk_bytes} differs from the catalogue's chunk size {chunk}",
            hint="remove chunk_bytes from [cache]: cached chunks are verified with the catalogue's per-chunk hashes",
        )
    return conf
