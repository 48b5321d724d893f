"""Metadata a restore puts back on what it wrote: owner and group, mode, extended attributes
(POSIX ACLs included), and times; and what it could not put back, said once per kind.

Owners: only root can give files away. As root, each entry gets its archived owner and group,
mapped by name where this machine knows the name (as tar does), else by number; otherwise the
owners are left as they are and the report says so. The setuid and setgid bits are set only
on entries whose owner was restored too (tar's rule: a setuid file must not become setuid for
whoever ran the restore). Order per entry: owner, mode, xattrs (an ACL rewrites the group bits
as its mask, as on the original), times last.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat

from odarchive.catalogue import Catalogue, owners, xattrs

SPECIAL_BITS = stat.S_ISUID | stat.S_ISGID


class AttrSetter:
    """Applies archived metadata to restored paths and counts what it could not apply."""

    def __init__(self, cat: Catalogue) -> None:
        self.cat = cat
        self.as_root = os.geteuid() == 0
        self._ids: dict[int, tuple[int, int]] = {}
        self._sets: dict[int, dict[str, bytes]] = {}
        self.not_set: dict[str, int] = {}
        self._first_error: dict[str, str] = {}

    def apply(self, path: bytes, kind: str, mode: int, mtime_ns: int, owner: int | None, attrs: int | None) -> None:
        owned = self._owner(path, owner)
        if kind != "l":
            bits = stat.S_IMODE(mode)
            if bits & SPECIAL_BITS and not owned:
                bits &= ~SPECIAL_BITS
                self._missed("setuid/setgid bits (dropped: the owner was not restored)")
            os.chmod(path, bits)
            if attrs is not None:
                self._xattrs(path, attrs)
        os.utime(path, ns=(mtime_ns, mtime_ns), follow_symlinks=False)

    def problems(self) -> list[str]:
        """One line per kind of metadata that could not be set."""
        out = []
        for what, n in sorted(self.not_set.items()):
            why = self._first_error.get(what)
            out.append(f"{what}: not set on {n} entr{'y' if n == 1 else 'ies'}" + (f" ({why})" if why else ""))
        return out

    def _owner(self, path: bytes, owner: int | None) -> bool:
        if owner is None:
            return False
        if not self.as_root:
            self._missed("owner and group", f"restore runs as uid {os.geteuid()}, not root")
            return False
        uid, gid = self._local_ids(owner)
        try:
            os.chown(path, uid, gid, follow_symlinks=False)
        except OSError as e:
            self._missed("owner and group", e.strerror)
            return False
        return True

    def _local_ids(self, owner: int) -> tuple[int, int]:
        found = self._ids.get(owner)
        if found is None:
            o = owners.get(self.cat.conn, owner)
            assert o is not None
            found = self._ids[owner] = (_uid(o.user, o.uid), _gid(o.group, o.gid))
        return found

    def _xattrs(self, path: bytes, set_id: int) -> None:
        values = self._sets.get(set_id)
        if values is None:
            values = self._sets[set_id] = xattrs.get(self.cat.conn, set_id)
        for name, value in values.items():
            try:
                os.setxattr(path, name, value, follow_symlinks=False)
            except OSError as e:
                self._missed("extended attributes", f"{name}: {e.strerror}")

    def _missed(self, what: str, why: str | None = None) -> None:
        self.not_set[what] = self.not_set.get(what, 0) + 1
        if why and what not in self._first_error:
            self._first_error[what] = why


def _uid(name: str | None, number: int) -> int:
    if name is not None:
        try:
            return pwd.getpwnam(name).pw_uid
        except KeyError:
            pass
    return number


def _gid(name: str | None, number: int) -> int:
    if name is not None:
        try:
            return grp.getgrnam(name).gr_gid
        except KeyError:
            pass
    return number
