"""The cache's errors (part of the mount's error tree, exit code 7)."""

from __future__ import annotations

import errno

from fuse_mount.errors import MountFault


class CacheError(MountFault):
    """The cache cannot be opened or used (bad directory, bad config, broken index)."""

    hint = "check the cache directory (--cache-dir / [cache] dir), or remove it to start afresh"


class CacheFullError(CacheError):
    """Data could not be stored: the cache disk is full even after evicting everything evictable.

    The read that needed it fails with ENOSPC ("No space left on device"), which says why.

    Raised by `put_*` for that one piece of data only; the index stays consistent and other
    reads carry on.
    """

    errno_code = errno.ENOSPC
    hint = "free space on the cache disk, lower --cache-min-free, or unpin/close some files"
