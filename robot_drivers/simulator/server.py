"""The simulator process: a pseudo-terminal that speaks one changer dialect.

It opens a pty (`os.openpty`), puts the terminal side in raw mode and publishes its path as the
symlink `<state>/tty` plus `<state>/sim.json` (pid, tty, dialect, drive paths), so a serial
driver opens `<state>/tty` exactly as it would open `/dev/ttyUSB0`. Replies are scheduled at
the time the simulated mechanism finishes; line faults (garbled or lost replies, the adapter
disappearing) are applied as replies go out. One thread; it exits on SIGTERM/SIGINT or after
`idle_exit_s` without a command while its drives are empty, removing what it published.
"""

from __future__ import annotations

import heapq
import json
import os
import random
import select
import signal
import time
import tty
from dataclasses import asdict
from pathlib import Path

from robot_drivers.simulator.config import SimConfig
from robot_drivers.simulator.generic_dialect import GenericDialect
from robot_drivers.simulator.mechanism import Mechanism
from robot_drivers.simulator.slot_dialect import SlotDialect

INFO_FILE = "sim.json"


class _Stopped(Exception):
    """Raised by the signal handler to leave the loop."""


TTY_LINK = "tty"


class PtyServer:
    def __init__(self, state_dir: Path, config: SimConfig) -> None:
        self.state_dir = Path(state_dir)
        self.config = config
        self.mech = Mechanism(self.state_dir, config)
        generic = self.mech.snapshot()["dialect"] == "generic"
        self.dialect = GenericDialect(self.mech) if generic else SlotDialect(self.mech)
        self.generic = generic
        self.master = self.slave = -1
        self.stopping = False
        self._queue: list[tuple[float, int, str]] = []
        self._seq = 0
        self._buffer = b""
        self._rng = random.Random(1)

    # ---- publishing ------------------------------------------------------------------------

    def open_port(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        link = self.state_dir / TTY_LINK
        tmp = self.state_dir / (TTY_LINK + ".new")
        tmp.unlink(missing_ok=True)
        os.symlink(os.ttyname(self.slave), tmp)
        os.replace(tmp, link)
        st = self.mech.snapshot()
        info = {
            "pid": os.getpid(),
            "tty": str(link),
            "pts": os.ttyname(self.slave),
            "dialect": st["dialect"],
            "drives": [str(self.mech.store.drive_file(n)) for n in range(len(st["drives"]))],
            "config": asdict(self.config),
        }
        tmp_info = self.state_dir / (INFO_FILE + ".new")
        tmp_info.write_text(json.dumps(info, indent=1))
        os.replace(tmp_info, self.state_dir / INFO_FILE)

    def close_port(self, unpublish: bool) -> None:
        for fd in (self.master, self.slave):
            if fd >= 0:
                os.close(fd)
        self.master = self.slave = -1
        if self.state_dir.is_dir():
            (self.state_dir / TTY_LINK).unlink(missing_ok=True)
            if unpublish:
                (self.state_dir / INFO_FILE).unlink(missing_ok=True)

    # ---- main loop -------------------------------------------------------------------------

    def serve(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        self.open_port()
        try:
            self._loop()
        except _Stopped:
            pass
        finally:
            self.close_port(unpublish=True)

    def _loop(self) -> None:
        last_command = time.monotonic()
        while not self.stopping and self.state_dir.is_dir():  # a removed home ends the simulator
            now = time.monotonic()
            if now - last_command > self.config.idle_exit_s and not self._queue and self._drives_empty():
                return  # idle and nothing in a drive (a long burn sends no commands)
            wait = self._queue[0][0] - now if self._queue else 1.0
            readable, _, _ = select.select([self.master], [], [], max(0.0, min(wait, 1.0)))
            if readable:
                data = os.read(self.master, 4096)
                last_command = time.monotonic()
                self._receive(data)
            self._send_due()

    def _drives_empty(self) -> bool:
        return all(d["medium"] is None for d in self.mech.store.read()["drives"])

    def _stop(self, *_: object) -> None:
        self.stopping = True
        raise _Stopped()  # interrupt a select() at once; `serve` unpublishes in its finally

    def _receive(self, data: bytes) -> None:
        if self.generic:
            commands = [chr(b) for b in data]
        else:
            self._buffer += data
            *lines, self._buffer = self._buffer.split(b"\r")
            commands = [line.decode("ascii", "replace").strip("\n") for line in lines]
        for command in commands:
            if self._unplug_if_armed():
                return
            for delay, text in self.dialect.handle(command):
                self._seq += 1
                heapq.heappush(self._queue, (time.monotonic() + delay, self._seq, text))

    def _send_due(self) -> None:
        while self._queue and self._queue[0][0] <= time.monotonic():
            _, _, text = heapq.heappop(self._queue)
            payload = text.encode("ascii") + (b"" if self.generic else b"\r")
            if not text.startswith("F OK"):  # a fault command's own answer is never disturbed
                payload = self._line_faults(payload)
            if payload and self.master >= 0:
                os.write(self.master, payload)

    def _line_faults(self, payload: bytes) -> bytes:
        pending = self.mech.store.read()["faults"]
        if not (pending["drop"] or pending["garble"]):
            return payload
        with self.mech.store.locked() as st:
            f = st["faults"]
            if f["drop"] > 0:
                f["drop"] -= 1
                return b""
            if f["garble"] > 0:
                f["garble"] -= 1
                noise = bytes(self._rng.choice(b"#%&*~^@$") for _ in range(max(3, len(payload))))
                return noise + (b"" if self.generic else b"\r")
        return payload

    def _unplug_if_armed(self) -> bool:
        """The adapter disappears (pty closed, link removed) and comes back as a new pty."""
        if not self.mech.store.read()["faults"]["unplug_s"]:
            return False
        with self.mech.store.locked() as st:
            seconds, st["faults"]["unplug_s"] = st["faults"]["unplug_s"], 0.0
        if seconds <= 0:
            return False
        self.close_port(unpublish=False)
        self._queue.clear()
        self._buffer = b""
        time.sleep(seconds)
        self.open_port()
        return True
