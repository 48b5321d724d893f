"""The mount's parts wired together without FUSE: `MountConfig` and `ArchiveService`.

`ArchiveService` owns the fetcher (with its drive workers), the cached reader and the `Vfs`
over a catalogue view, a disc source and an opened cache. The command line builds one and
hands its `vfs` to `fuse_ops.serve`; tests build one and call the `vfs` directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fuse_mount.cache import Cache
from fuse_mount.catalogue_view import CatalogueView
from fuse_mount.discs import DiscSource, loads_are_free
from fuse_mount.fetcher import FetchConfig, Fetcher
from fuse_mount.reader import CachedReader
from fuse_mount.vfs import Vfs

MiB = 1024 * 1024


@dataclass(frozen=True)
class MountConfig:
    """The `[mount]` table of odarchive.toml (and the `odarchive mount` flags)."""

    foreground: bool = False
    """Stay in the foreground (for systemd); otherwise return once the mount is ready."""
    allow_other: bool = False
    """Let other users see the mount (needs user_allow_other in /etc/fuse.conf for non-root)."""
    disc_timeout_s: float = 600.0
    """A read that waits longer than this for its disc fails with EIO."""
    images: str = ""
    """Read discs from the image files in this directory instead of the robot."""
    image_drives: int = 2
    """With `images`: how many images may be read at once."""
    whole_max_bytes: int = 64 * MiB
    """Contents up to this size are fetched and verified whole; larger ones by chunk."""
    read_ahead_chunks: int = 2
    """Chunks beyond a read of a large content fetched with it."""
    fault_hold_s: float = 10.0
    """After a disc failed, new reads of it fail at once for this long."""
    gather_s: float | None = None
    """Requests are gathered until none came for this long before a disc is loaded; None:
    0.05 s with a robot (a load takes seconds), 0 with images (opening one is free)."""
    refresh_s: float = 2.0
    """How often the catalogue is checked for new snapshots and discs."""
    attr_timeout_s: float = 60.0
    """How long the kernel may cache names and attributes. A change of the tree (a snapshot
    completed) makes the mount tell the kernel to forget them within `refresh_s`; only those
    of directories in use (a shell's working directory) may last this long."""

    def fetch_config(self, source: DiscSource) -> FetchConfig:
        gather_s = self.gather_s if self.gather_s is not None else 0.0 if loads_are_free(source) else 0.05
        return FetchConfig(
            self.disc_timeout_s, self.whole_max_bytes, self.read_ahead_chunks, self.fault_hold_s, gather_s
        )


class ArchiveService:
    """A catalogue, a disc source and a cache, served as one read-only file system model."""

    def __init__(self, catalogue: CatalogueView, source: DiscSource, cache: Cache, config: MountConfig) -> None:
        self.config = config
        self.cache = cache
        self.fetcher = Fetcher(catalogue, source, cache, config.fetch_config(source))
        self.vfs = Vfs(catalogue, CachedReader(cache, self.fetcher), refresh_s=config.refresh_s)

    def status(self) -> dict[str, Any]:
        """What `odarchive status` shows: waiting requests by disc, drives, cache fill."""
        stats = self.cache.stats()
        return {
            **self.fetcher.status(),
            "open_files": self.vfs.open_files(),
            "cache": {
                "bytes_cached": stats.bytes_cached,
                "max_bytes": stats.max_bytes,
                "free_bytes": stats.free_bytes,
                "hits": stats.hits,
                "misses": stats.misses,
                "hit_ratio": stats.hit_ratio,
            },
        }

    def close(self) -> None:
        self.fetcher.close()
        self.cache.close()
