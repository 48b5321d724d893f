"""One content or piece placed on a disc (`Placed`), as the planner and the builder see it."""

from __future__ import annotations

from dataclasses import dataclass

PIECE_SUFFIX = ".part{:03d}"


@dataclass(slots=True)
class Placed:
    """One content or piece on the disc: what the manifest and the builder need to know."""

    content_id: int
    piece: int  # 0: the whole content; 1..n: part number
    offset: int
    length: int
    content_sha: bytes
    content_size: int
    mtime_ns: int
    raw_path: bytes  # archived path of the file whose bytes these are (root/dir/name)
    piece_sha: bytes | None = None  # hash of a piece, known once it was read
    mode: int = 0o100644  # the file's st_mode


def disc_raw_path(p: Placed) -> bytes:
    """The archived path under DATA/ of a placement (with .partNNN for pieces)."""
    return p.raw_path + PIECE_SUFFIX.format(p.piece).encode() if p.piece else p.raw_path
