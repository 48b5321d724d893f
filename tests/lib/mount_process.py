"""Real mounts for tests: `odarchive mount` in the background, a client using the kernel.

`Mounted` starts the mount through the command line (as a user would), knows its status
record, and unmounts on exit. `PosixClient` is the conformance suite's client that goes
through the kernel with plain os calls.
"""

from __future__ import annotations

import errno
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from odarchive.app.mount_serve import STATUS_INTERVAL_S
from odarchive.cli import main
from tests.lib.mount_conformance import Stat
from tests.lib.waiting import wait_until


class Mounted:
    def __init__(self, home: Path, mountpoint: Path, *flags: str) -> None:
        self.home, self.mountpoint, self.flags = home, mountpoint, flags
        mountpoint.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> Mounted:
        code = main(["--home", str(self.home), "mount", str(self.mountpoint), *self.flags])
        assert code == 0, f"odarchive mount failed ({code}); see {self.home / 'logs' / 'mount.log'}"
        assert os.path.ismount(self.mountpoint)
        return self

    def __exit__(self, *exc: object) -> None:
        if os.path.ismount(self.mountpoint):
            assert main(["--home", str(self.home), "umount", str(self.mountpoint)]) == 0

    def status(self, until: Callable[[dict], object] = bool, timeout_s: float = 10.0) -> dict:
        """The mount's status record (it rewrites it about every second), once `until(record)`."""
        return wait_until(
            lambda: (r := self._record()) is not None and until(r) and r,
            f"the mount's status record to satisfy {until}",
            timeout_s,
        )

    def quiet_status(self) -> dict:
        """The status record once the mount had time to report a change (it does within
        STATUS_INTERVAL_S of one): for checking that something did NOT happen."""
        time.sleep(2 * STATUS_INTERVAL_S)
        return self.status()

    def _record(self) -> dict | None:
        for path in (self.home / "jobs").glob("mount-*.json"):
            try:
                record = json.loads(path.read_text())
            except (OSError, ValueError):  # being replaced
                continue
            if record.get("mountpoint") == str(self.mountpoint):
                return record
        return None


class PosixClient:
    """The conformance client through the kernel: os calls on paths under the mountpoint."""

    def __init__(self, mounted: Mounted) -> None:
        self.mounted = mounted
        self.root = os.fsencode(mounted.mountpoint)

    def _p(self, path: bytes) -> bytes:
        return self.root + path

    def listdir(self, path: bytes) -> list[bytes]:
        return os.listdir(self._p(path))

    def lstat(self, path: bytes) -> Stat:
        st = os.lstat(self._p(path))
        return Stat(
            st.st_mode, st.st_size, st.st_mtime_ns, st.st_nlink, st.st_ino, st.st_uid, st.st_gid, st.st_ctime_ns
        )

    def readlink(self, path: bytes) -> bytes:
        return os.readlink(self._p(path))

    def read(self, path: bytes, offset: int = 0, size: int = -1) -> bytes:
        with open(self._p(path), "rb") as f:
            f.seek(offset)
            return f.read(size)

    def getxattr(self, path: bytes, name: str) -> bytes:
        return os.getxattr(self._p(path), name, follow_symlinks=False)

    def listxattr(self, path: bytes) -> list[str]:
        return os.listxattr(self._p(path), follow_symlinks=False)

    def try_write(self, op: str, path: bytes) -> int:
        p = self._p(path)
        calls = {
            "write": lambda: os.close(os.open(p, os.O_WRONLY)),
            "create": lambda: os.close(os.open(p + b".new", os.O_WRONLY | os.O_CREAT, 0o644)),
            "mkdir": lambda: os.mkdir(p + b".d"),
            "unlink": lambda: os.unlink(p),
            "rename": lambda: os.rename(p, p + b".x"),
            "chmod": lambda: os.chmod(p, 0o777),
            "truncate": lambda: os.truncate(p, 0),
            "setxattr": lambda: os.setxattr(p, "user.x", b"1"),
            "symlink": lambda: os.symlink(b"x", p + b".lnk"),
            "rmdir": lambda: os.rmdir(p),
        }
        try:
            calls[op]()
        except OSError as e:
            return e.errno or errno.EIO
        return 0

    def disc_loads(self) -> int:
        return int(self.mounted.quiet_status()["disc_loads"])  # once settled: the record lags the mount

    def statvfs(self) -> tuple[int, int, int]:
        st = os.statvfs(self.root)
        return st.f_frsize, st.f_blocks, st.f_files
