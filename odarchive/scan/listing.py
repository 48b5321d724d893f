"""One directory's listing as the walk sees it: names and lstat, with what must be skipped.

Pure: it reads the file system and nothing else, so the walk can run it in its own process or
in another one (`odarchive.scan.lister`) and get the same answer. Owners are given as
(uid, gid), or mapped by the caller's `owner` function (the walking process maps them to the
catalogue's owner ids as it lists; a listing from the lister is mapped when it arrives).

Never follows symlinks, never opens anything but the directory; names stay bytes.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Callable
from typing import NamedTuple

_REG, _DIR, _LNK = stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK
_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "FIFO (named pipe)"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)

Item = tuple  # (name, (size, mtime_ns, mode, ctime_off, owner, ino or None, target or None), sparse, path)


class Rules(NamedTuple):
    """What every listing of one walk leaves out."""

    excludes: tuple[str, ...]  # globs on names and source-relative paths
    exclude_dirs: dict[tuple[int, int], str]  # (st_dev, st_ino) -> why
    dev: int  # the source's device: hard links are only followed on it


class Listing(NamedTuple):
    path: bytes
    error: str | None  # why the directory could not be listed (then nothing else is set)
    items: list[Item]
    subdirs: list[bytes]  # names of the directories among items, in order
    skipped: list[tuple[bytes, str, bytes]]  # (name, reason, path)
    left_out: list[tuple[bytes, str]]  # (path, why) of the rules' exclude_dirs met here


def list_directory(
    abspath: bytes, relpath: bytes, rules: Rules, owner: Callable[[int, int], object] | None = None
) -> Listing:
    """The listing of directory `abspath` (`relpath` inside the source, b"" for its root); each
    item's owner is `owner(uid, gid)`, or (uid, gid) without it.

    This runs once per entry of the tree, so it is written for speed."""
    try:
        it = os.scandir(abspath)
    except OSError as e:
        return Listing(abspath, f"cannot list directory: {e.strerror}", [], [], [], [])
    items: list[Item] = []
    subdirs: list[bytes] = []
    skipped: list[tuple[bytes, str, bytes]] = []
    left_out: list[tuple[bytes, str]] = []
    excludes, exclude_dirs, dev = rules
    add = items.append
    with it:
        for de in it:
            name = de.name
            if excludes and excluded(excludes, name, relpath + b"/" + name if relpath else name):
                continue
            try:
                st = de.stat(follow_symlinks=False)
                mode = st.st_mode
                fmt = mode & 0o170000
                mtime = st.st_mtime_ns
                who = (st.st_uid, st.st_gid) if owner is None else owner(st.st_uid, st.st_gid)
                if fmt == _REG:
                    size = st.st_size
                    linked = st.st_ino if st.st_nlink > 1 and st.st_dev == dev else None
                    add(
                        (
                            name,
                            (size, mtime, mode, st.st_ctime_ns - mtime, who, linked, None),
                            st.st_blocks * 512 < size,
                            de.path,
                        )
                    )
                elif fmt == _DIR:
                    if exclude_dirs and (st.st_dev, st.st_ino) in exclude_dirs:
                        left_out.append((de.path, exclude_dirs[(st.st_dev, st.st_ino)]))
                        continue
                    add((name, (0, mtime, mode, st.st_ctime_ns - mtime, who, None, None), False, de.path))
                    subdirs.append(name)
                elif fmt == _LNK:
                    target = os.readlink(de.path)
                    add((name, (len(target), mtime, mode, st.st_ctime_ns - mtime, who, None, target), False, de.path))
                else:
                    skipped.append((name, f"{special_kind(mode)}: not archived", de.path))
            except FileNotFoundError:
                skipped.append((name, "vanished during the scan", de.path))
            except OSError as e:
                skipped.append((name, f"cannot stat: {e.strerror}", de.path))
    return Listing(abspath, None, items, subdirs, skipped, left_out)


def below(abspath: bytes, relpath: bytes, name: bytes) -> tuple[bytes, bytes]:
    """(abspath, relpath) of subdirectory `name`: how the walk and the lister both descend."""
    return abspath + b"/" + name, relpath + b"/" + name if relpath else name


def excluded(globs: tuple[str, ...], name: bytes, rel: bytes) -> bool:
    n, r = os.fsdecode(name), os.fsdecode(rel)
    return any(fnmatch.fnmatchcase(n, g) or fnmatch.fnmatchcase(r, g) for g in globs)


def special_kind(mode: int) -> str | None:
    for test, label in _SPECIAL_KINDS:
        if test(mode):
            return label
    return None
