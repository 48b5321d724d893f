"""The image file pycdlib writes into: all-zero blocks become holes (a sparse file).

pycdlib copies every byte of every file; a large run of zeros (sparse sources, pre-allocated
files, padding) then costs a full write. `SparseImageFile` compares each large write with a
zero buffer (a memcmp) and seeks over it instead, so such images take no disc space or time
for their zeros; reading the holes gives zeros, so the image's bytes are the same. The file
is extended to its full length on close.
"""

from __future__ import annotations

import os
from pathlib import Path

MIN_HOLE = 64 * 1024
ZEROS = bytes(1 << 20)  # pycdlib writes file data in pieces of at most its blocksize (1 MiB here)


class SparseImageFile:
    mode = "wb"

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self.pos = 0
        self.end = 0

    @staticmethod
    def _is_zero(data: bytes) -> bool:
        n = len(data)
        if n == len(ZEROS):
            return data == ZEROS  # a memcmp; stops at the first non-zero byte
        return MIN_HOLE <= n < len(ZEROS) and data == ZEROS[:n]

    def write(self, data: bytes) -> int:
        n = len(data)
        if self._is_zero(data):
            self.pos += n
        else:
            view = memoryview(data)
            done = 0
            while done < n:
                done += os.pwrite(self.fd, view[done:], self.pos + done)
            self.pos += n
        self.end = max(self.end, self.pos)
        return n

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == os.SEEK_SET:
            self.pos = offset
        elif whence == os.SEEK_CUR:
            self.pos += offset
        else:
            self.pos = self.end + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def close(self) -> None:
        """Extend the file over trailing holes, flush it to the medium and close it."""
        if self.fd < 0:
            return
        os.ftruncate(self.fd, max(self.end, os.fstat(self.fd).st_size))
        os.fsync(self.fd)
        os.close(self.fd)
        self.fd = -1

    def abandon(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
