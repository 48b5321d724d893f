"""Burn an image with `xorriso -as cdrecord -v dev=TARGET IMAGE` and follow its progress.

xorriso reports progress as lines such as
`xorriso : UPDATE :   12 of   39 MB written (fifo 99%) [buf  50%]` (cdrecord emulation prints
`Track 01:   12 of   39 MB written ...` on some versions); `parse_progress` reads both. A
non-zero exit, or a FAILURE/SORRY line, is a failed burn.

Pseudo-drives may impose limits that stand in for a real medium: `write_bytes_per_s` (the
image is then fed through a pipe, `-` with `tsize=`, at that rate) and a defect at a byte
offset (the process gets RLIMIT_FSIZE there, so xorriso's own write fails at that point).
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import threading
import time
from collections import deque
from pathlib import Path

from robot_drivers import errors
from robot_drivers.interfaces import ProgressCallback

PROGRESS = re.compile(r"(\d+)\s+of\s+(\d+)\s+MB written")
FAILURE = re.compile(r"FAILURE|SORRY|FATAL|ABORT")
MB = 1024 * 1024
FEED_CHUNK = 1024 * 1024


def parse_progress(line: str) -> tuple[int, int] | None:
    """(bytes written, bytes total) from one xorriso progress line, else None."""
    m = PROGRESS.search(line)
    return (int(m[1]) * MB, int(m[2]) * MB) if m else None


def burn_command(xorriso: str, target: str, image: str, tsize: int | None = None) -> list[str]:
    cmd = [xorriso, "-as", "cdrecord", "-v", f"dev={target}"]
    if tsize is not None:
        cmd.append(f"tsize={tsize}")
    return [*cmd, image]


def run_burn(
    target: str,
    image_path: Path,
    progress_cb: ProgressCallback | None = None,
    *,
    xorriso: str = "xorriso",
    write_bytes_per_s: float | None = None,
    fail_at_byte: int | None = None,
    timeout_s: float = 6 * 3600,
) -> None:
    """Burn `image_path` to `target` (`/dev/srN` or `stdio:PATH`); BurnFailed on failure."""
    size = image_path.stat().st_size
    cb = progress_cb or (lambda done, total: None)
    throttled = bool(write_bytes_per_s and write_bytes_per_s > 0)
    cmd = burn_command(xorriso, target, "-" if throttled else str(image_path), size if throttled else None)

    def limit() -> None:  # runs in the child: the medium "ends" at the defect
        if fail_at_byte is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fail_at_byte, fail_at_byte))

    try:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE if throttled else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            preexec_fn=limit,
        )
    except FileNotFoundError:
        raise errors.BurnFailed(f"`{xorriso}` is not installed", hint="install the `xorriso` package") from None
    tail: deque[str] = deque(maxlen=12)
    failed_lines: list[str] = []
    feeder = None
    cb(0, size)  # before the feeder's first report: progress never goes back
    if throttled:
        feeder = threading.Thread(
            target=_feed, args=(proc, image_path, float(write_bytes_per_s or 0), cb, size), daemon=True
        )
        feeder.start()
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    for line in proc.stdout:
        tail.append(line.rstrip())
        if FAILURE.search(line):
            failed_lines.append(line.strip())
        p = parse_progress(line)
        if p and not throttled:
            cb(min(p[0], size), size)
        if time.monotonic() > deadline:
            proc.kill()
            break
    code = proc.wait()
    if feeder is not None:
        feeder.join()
    if code != 0 or failed_lines:
        specific = [line for line in failed_lines if "ABORT" not in line]
        why = (specific or failed_lines or list(tail) or [f"exit code {code}"])[0 if specific else -1]
        if code < 0:
            why = f"xorriso was killed by signal {-code} ({why})"
        raise errors.BurnFailed(f"burning {image_path.name} to {target} failed: {why}")
    cb(size, size)


def _feed(proc: subprocess.Popen[str], image_path: Path, rate: float, cb: ProgressCallback, size: int) -> None:
    """Write the image into xorriso's stdin at `rate` bytes/s (a pseudo-drive's write speed)."""
    assert proc.stdin is not None
    fd = proc.stdin.fileno()
    t0 = time.monotonic()
    done = 0
    try:
        with open(image_path, "rb") as f:
            while chunk := f.read(FEED_CHUNK):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
                done += len(chunk)
                cb(done, size)
                ahead = done / rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
    except (BrokenPipeError, OSError):
        pass  # xorriso stopped reading: its exit status tells why
    finally:
        try:
            proc.stdin.close()
        except OSError:
            pass
