"""Directory listings read ahead in another process, in the order the walk visits them.

Listing a directory (`odarchive.scan.listing`: a getdents, an lstat a name, a readlink a
symlink) was a fifth of a first scan's time in the walking process, which also compares the
listings with the catalogue and writes the rows. Once a walk has compared more than
`INLINE_ENTRIES` entries row by row, the lister process takes the directories still to visit
and walks them depth first exactly as the walk does (it pops the same stack, pushes the
same subdirectories: those of its own listings), so each listing it sends is the next one the
walk asks for. The walk checks that (the path), and lists a directory itself whenever the lister
cannot answer: it died, or sent another path (a bug); one warning says so.

A small tree never starts it, nor a re-scan that finds its directories unchanged (their listing
digests match): there listing is nearly all the walk does, and taking the listings through a
pipe costs about as much (measured: a re-scan of 100,000 unchanged files 0.53 -> 0.71 s, of
20,000 files and a large one 0.20 -> 0.48 s, with the lister started after 5,000 entries).

Memory: listings go in chunks of about `CHUNK_ENTRIES` entries (about 50 kB) through a pipe of
`PIPE_BYTES`, which holds the lister back once it is that far ahead. (Through the default 64 kB
pipe, chunks of 2,000 entries went in pieces, each waiting for the lister to be scheduled: the
walk spent a tenth of its time waiting.) The lister runs at the hashing workers' nice level
(`hashworkers.NICE`), ignores Ctrl-C and ends when the walk does (its next write finds the pipe
closed).
"""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import signal
from collections import deque
from multiprocessing.connection import Connection

from odarchive.scan.hashworkers import NICE
from odarchive.scan.listing import Listing, Rules, below, list_directory

INLINE_ENTRIES = 16_000
CHUNK_ENTRIES = 500
PIPE_BYTES = 1 << 20


def read_ahead(out: Connection, stack: list[tuple[bytes, bytes]], rules: Rules) -> None:
    """In the lister process: the listings of `stack` ((abspath, relpath), popped from the end)
    and of everything below, to `out`; None after the last."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICE)
    chunk: list[Listing] = []
    entries = 0
    try:
        while stack:
            abspath, relpath = stack.pop()
            listing = list_directory(abspath, relpath, rules)
            chunk.append(listing)
            entries += len(listing.items) + 1
            stack.extend(below(abspath, relpath, name) for name in reversed(listing.subdirs))
            if entries >= CHUNK_ENTRIES:
                out.send(chunk)
                chunk, entries = [], 0
        out.send(chunk)
        out.send(None)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the walk has ended
    finally:
        out.close()


class Lister:
    """The walk's side: `next(abspath)` is the listing of the directory the walk visits next."""

    def __init__(self, stack: list[tuple[bytes, bytes]], rules: Rules) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        self._in, out = context.Pipe(duplex=False)
        try:
            fcntl.fcntl(out.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except (AttributeError, OSError):
            pass  # the default size (at least 4 kB) works, only waits more
        self._process = context.Process(target=read_ahead, args=(out, stack, rules), name="odarchive-lister")
        self._process.start()
        out.close()
        self._chunk: deque[Listing] = deque()
        self._ended = False

    def next(self, abspath: bytes) -> Listing | str:
        """The listing of `abspath`, or why the lister cannot give it (then it is closed)."""
        if not self._chunk and not self._ended:
            try:
                got = self._in.recv()
            except (EOFError, OSError):
                self._ended = True
                self.close()
                return "the process reading directories ahead ended unexpectedly"
            if got is None:
                self._ended = True
            else:
                self._chunk.extend(got)
        if not self._chunk:
            self.close()
            return "the process reading directories ahead had no more directories"
        listing = self._chunk.popleft()
        if listing.path != abspath:
            self.close()
            return "the process reading directories ahead lost its place"
        return listing

    def close(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._in.close()
