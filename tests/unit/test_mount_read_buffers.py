"""`ReadBuffers`: the fetcher's reused read buffers fit what is asked, and idle ones are freed."""

from __future__ import annotations

import time

from fuse_mount.buffers import KEPT, PAGE, ReadBuffers


def test_a_buffer_given_back_is_taken_again_when_it_fits() -> None:
    buffers = ReadBuffers()
    small, large = buffers.take(10), buffers.take(3 * PAGE)
    assert len(small) == PAGE  # whole pages: page-aligned memory for direct reads
    buffers.give(large)
    buffers.give(small)
    assert buffers.take(2 * PAGE) is large  # the smallest that fits
    assert buffers.take(5) is small
    assert len(buffers.take(PAGE + 1)) == 2 * PAGE  # none idle: a new one


def test_idle_buffers_are_freed_and_few_are_kept() -> None:
    buffers = ReadBuffers()
    given = [buffers.take(8) for _ in range(KEPT + 3)]
    for b in given:
        buffers.give(b)
    taken = [buffers.take(8) for _ in range(KEPT + 1)]
    assert {id(b) for b in given[3:]} < {id(b) for b in taken}  # the newest KEPT, and one new: the three oldest went
    kept = [buffers.take(8) for _ in range(2)]
    for b in kept:
        buffers.give(b)
    time.sleep(0.01)
    buffers.trim(0.0)
    assert id(buffers.take(8)) not in {id(b) for b in kept}
