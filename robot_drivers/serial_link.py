"""A serial line to a changer (pyserial), with timeouts and reopening after the port vanishes.

A USB-serial adapter can disappear (unplugged, reset by the hub) and come back under the same
udev name; `SerialLink` then closes the dead port and reopens the same path for up to
`reconnect_s` before giving up with a CommunicationError. Reads never block longer than the
timeout given. Not thread-safe: drivers serialise access with their own lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from robot_drivers import errors


class SerialLink:
    def __init__(
        self,
        device: str,
        baudrate: int = 9600,
        reconnect_s: float = 10.0,
        opener: Callable[..., Any] | None = None,
    ) -> None:
        self.device = device
        self.baudrate = baudrate
        self.reconnect_s = reconnect_s
        self._opener = opener
        self._port: Any = None

    def _open_port(self) -> Any:
        if self._opener is not None:
            return self._opener(self.device, self.baudrate)
        import serial

        return serial.Serial(self.device, self.baudrate, timeout=0, write_timeout=2.0, exclusive=True)

    def open(self) -> None:
        """Open the port, waiting up to `reconnect_s` for it to (re)appear."""
        deadline = time.monotonic() + self.reconnect_s
        last: Exception | None = None
        while True:
            try:
                self._port = self._open_port()
                return
            except Exception as e:  # serial.SerialException or OSError: not there (yet)
                last = e
            if time.monotonic() >= deadline:
                if "lock" in str(last).lower():
                    raise errors.CommunicationError(
                        f"the changer on {self.device} is in use by another process",
                        hint="one process drives the robot at a time: wait for the burn, or stop the mount",
                    )
                raise errors.CommunicationError(
                    f"cannot open the changer's serial port {self.device}: {last}",
                    hint="check the cable and [robot] device (see udev/ for a stable /dev/odarchive-robot)",
                )
            time.sleep(0.05)

    def close(self) -> None:
        if self._port is not None:
            try:
                self._port.close()
            except Exception:
                pass
            self._port = None

    def reopen(self) -> None:
        self.close()
        self.open()

    def _port_or_open(self) -> Any:
        if self._port is None:
            self.open()
        return self._port

    def write(self, data: bytes) -> None:
        try:
            self._port_or_open().write(data)
            self._port.flush()
        except errors.RobotError:
            raise
        except Exception as e:
            self.close()
            raise errors.CommunicationError(f"writing to {self.device} failed: {e}") from None

    def read_until(self, terminator: bytes, timeout_s: float) -> bytes | None:
        """Bytes up to and without `terminator`; None if it did not come within the timeout."""
        return self._read(lambda buf: terminator in buf, timeout_s, terminator)

    def read_byte(self, timeout_s: float) -> bytes | None:
        return self._read(lambda buf: len(buf) >= 1, timeout_s, None)

    def _read(self, done: Callable[[bytes], bool], timeout_s: float, terminator: bytes | None) -> bytes | None:
        port = self._port_or_open()
        buf = b""
        deadline = time.monotonic() + timeout_s
        try:
            while not done(buf):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                port.timeout = min(remaining, 0.2)
                chunk = port.read(1) if terminator is None else port.read_until(terminator)
                buf += chunk
        except Exception as e:
            self.close()
            raise errors.CommunicationError(f"reading from {self.device} failed: {e}") from None
        if terminator is None:
            return buf
        return buf[: buf.index(terminator)]

    def flush_input(self, quiet_s: float = 0.05, max_s: float = 2.0) -> bytes:
        """Discard what arrives until the line is quiet for `quiet_s` (resync), for at most `max_s`."""
        port = self._port_or_open()
        junk = b""
        deadline = time.monotonic() + max_s
        try:
            port.reset_input_buffer()
            port.timeout = quiet_s
            while (chunk := port.read(4096)) and time.monotonic() < deadline:
                junk += chunk
        except Exception as e:
            self.close()
            raise errors.CommunicationError(f"reading from {self.device} failed: {e}") from None
        return junk
