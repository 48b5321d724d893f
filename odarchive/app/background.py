"""Starting an odarchive process in the background and hearing when it is ready.

`odarchive mount` and `odarchive serve` both run their long-lived process detached: the
parent starts `odarchive --home H COMMAND ... --foreground --ready-fd FD`, the child writes one
line to FD once it serves (`ready[\\tWARNING...]`) or fails (`error\\tMESSAGE\\tHINT[\\tEXIT_CODE]`), and the
parent returns or raises. `spawn_detached` is the parent's side, `report_ready` the child's.
The child's output goes to `<home>/logs/LOG_NAME`.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
from dataclasses import dataclass

from odarchive.app.context import Context


@dataclass(frozen=True)
class Started:
    """What the detached process said (`message`: "" when it ended, or timed out, saying nothing)."""

    proc: subprocess.Popen[bytes]
    message: str
    timed_out: bool

    @property
    def ready(self) -> bool:
        return self.message.startswith("ready")

    def warnings(self) -> list[str]:
        """The fields after "ready"."""
        return [w for w in self.message.strip().split("\t")[1:] if w]

    def error_and_hint(self) -> tuple[str, str]:
        """The message and hint of an "error\tMESSAGE\tHINT[\tEXIT_CODE]" line (either may be "")."""
        fields = [*self.message.split("\t")[1:], "", ""]
        return fields[0].strip(), fields[1].strip()

    def exit_code(self) -> int | None:
        """The exit code of an "error\tMESSAGE\tHINT\tEXIT_CODE" line, if it carries one."""
        fields = self.message.split("\t")
        code = fields[3].strip() if len(fields) > 3 else ""
        return int(code) if code.isdigit() else None


def spawn_detached(ctx: Context, args: list[str], log_name: str, timeout_s: float) -> Started:
    """Start `odarchive --home H ARGS --ready-fd FD` in its own session and wait up to
    `timeout_s` for its first message. A process that said nothing in time is terminated."""
    ctx.home.logs.mkdir(parents=True, exist_ok=True)
    r, w = os.pipe()
    cmd = [sys.executable, "-m", "odarchive", "--home", str(ctx.home.root), *args, "--ready-fd", str(w)]
    with open(ctx.home.logs / log_name, "ab") as logf:
        proc = subprocess.Popen(
            cmd, pass_fds=(w,), stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True
        )
    os.close(w)
    try:
        ready, _, _ = select.select([r], [], [], timeout_s)
        message = os.read(r, 65536).decode(errors="replace") if ready else ""
    finally:
        os.close(r)
    if not ready:
        proc.terminate()
    return Started(proc, message, timed_out=not ready)


def report_ready(fd: int | None, message: str) -> None:
    """The child's side: write `message` to the parent's pipe (if any) and close it."""
    if fd is not None:
        try:
            os.write(fd, message.encode())
            os.close(fd)
        except OSError:
            pass
