"""The mount's errors and the one table that maps them to errno.

Every layer of `fuse_mount` raises these (never bare OSError); `errno_of` is the single place
that decides which errno a caller sees, used by `fuse_ops` for the kernel and by the
in-process conformance tests. Unknown exceptions map to EIO (and are logged by the caller).
Each error carries a message, a hint and exit code 7, like `odarchive.errors.MountError`.
"""

from __future__ import annotations

import errno

EXIT_MOUNT = 7


class MountFault(Exception):
    """Base of the mount's errors: a message, a hint for the user, an exit code."""

    exit_code: int = EXIT_MOUNT
    hint: str = ""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint


class NotFound(MountFault):
    """No such path, handle or snapshot."""


class NotADirectory(MountFault):
    """A path component is not a directory."""


class IsADirectory(MountFault):
    """Read or open of a directory as a file."""


class NotASymlink(MountFault):
    """readlink of something that is not a symbolic link."""


class ReadOnly(MountFault):
    """Any attempt to change the archive."""

    hint = "the archive is read-only; copy files out to change them"


class NoAttribute(MountFault):
    """An extended attribute that the entry does not have."""


class DiscUnavailable(MountFault):
    """The disc holding the bytes could not be had: timeout, robot fault, unreadable disc."""

    hint = "see `odarchive status` and the mount log; the disc may need attention"


class CorruptData(DiscUnavailable):
    """Bytes read from a disc did not match their recorded SHA-256; never served."""


ERRNO: tuple[tuple[type[BaseException], int], ...] = (
    (NotFound, errno.ENOENT),
    (NotADirectory, errno.ENOTDIR),
    (IsADirectory, errno.EISDIR),
    (NotASymlink, errno.EINVAL),
    (ReadOnly, errno.EROFS),
    (NoAttribute, errno.ENODATA),
    (DiscUnavailable, errno.EIO),
)


def errno_of(exc: BaseException) -> int | None:
    """The errno for a known error, or None for an unexpected one (the caller logs it; EIO).

    Other `MountFault`s (the cache's, for instance) give their class's `errno_code`, EIO unless
    they say otherwise: they are expected failures, not bugs."""
    for cls, code in ERRNO:
        if isinstance(exc, cls):
            return code
    if isinstance(exc, MountFault):
        return getattr(type(exc), "errno_code", errno.EIO)
    return None
