"""Queries of `restore` (`odarchive.restore`): the list of what a restore still has to write,
kept in temporary tables of the restore's connection (a restore of millions of files holds no
list in memory), and where each wanted content's pieces lie on which disc.

`Wanted` owns the temporary tables `want` (files: one row per path) and `want_dirs`
(directories, whose metadata is set last).
"""

from __future__ import annotations

import sqlite3

# (disc, content_id, piece, offset, length, piece sha256, pieces of the content, first image offset)
PieceRow = tuple[int, int, int, int, int, bytes | None, int, int | None]
# (path, mtime_ns, mode, owner, xattrs, source, inode)
NameRow = tuple[bytes, int, int, int | None, int | None, int, int | None]


class Wanted:
    """The files and directories a restore is to write, on the restore's connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS want (path BLOB, content_id INT, size INT, mtime_ns INT, mode INT,"
            " owner INT, xattrs INT, src INT, ino INT)"
        )
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS want_dirs (path BLOB, mtime_ns INT, mode INT, owner INT, xattrs INT)"
        )
        conn.execute("DELETE FROM want")
        conn.execute("DELETE FROM want_dirs")

    def add_dir(self, path: bytes, mtime_ns: int, mode: int, owner: int | None, xattrs: int | None) -> None:
        self.conn.execute("INSERT INTO want_dirs VALUES (?, ?, ?, ?, ?)", (path, mtime_ns, mode, owner, xattrs))

    def add_file(
        self,
        path: bytes,
        content_id: int | None,
        size: int,
        mtime_ns: int,
        mode: int,
        owner: int | None,
        xattrs: int | None,
        source: int,
        ino: int | None,
    ) -> None:
        self.conn.execute(
            "INSERT INTO want VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (path, content_id, size, mtime_ns, mode, owner, xattrs, source, ino),
        )

    def listed(self) -> None:
        """Every wanted file is listed: index them by content for the copying."""
        self.conn.execute("CREATE INDEX IF NOT EXISTS temp.want_by_content ON want(content_id)")

    def unplaced(self) -> list[int]:
        """Wanted contents that are on no disc."""
        return [
            cid
            for (cid,) in self.conn.execute(
                "SELECT DISTINCT content_id FROM want WHERE content_id NOT IN (SELECT content_id FROM placements)"
            ).fetchall()
        ]

    def pieces(self) -> list[PieceRow]:
        """Every piece of every wanted content, by disc and then by position on the disc (each
        image is read front to back)."""
        return self.conn.execute(
            "SELECT p.disc_id, p.content_id, p.piece, p.offset, p.length, p.sha256,"
            " (SELECT count(*) FROM placements q WHERE q.content_id = p.content_id),"
            " (SELECT min(image_offset) FROM extents x WHERE x.content_id = p.content_id AND x.piece = p.piece) AS pos"
            " FROM placements p WHERE p.content_id IN (SELECT content_id FROM want) ORDER BY p.disc_id, pos"
        ).fetchall()

    def first_path(self, content_id: int) -> bytes:
        """The first wanted path (by name) with this content."""
        return self.conn.execute(
            "SELECT path FROM want WHERE content_id=? ORDER BY path LIMIT 1", (content_id,)
        ).fetchone()[0]

    def paths(self, content_id: int) -> list[bytes]:
        """Every wanted path with this content, by name."""
        return [
            p
            for (p,) in self.conn.execute(
                "SELECT path FROM want WHERE content_id=? ORDER BY path", (content_id,)
            ).fetchall()
        ]

    def names(self, content_id: int) -> list[NameRow]:
        """(path, mtime_ns, mode, owner, xattrs, source, inode) of every wanted path with this
        content, by name."""
        return self.conn.execute(
            "SELECT path, mtime_ns, mode, owner, xattrs, src, ino FROM want WHERE content_id=? ORDER BY path",
            (content_id,),
        ).fetchall()

    def dirs_deepest_first(self) -> list[tuple[bytes, int, int, int | None, int | None]]:
        """(path, mtime_ns, mode, owner, xattrs) of every wanted directory, longest path first."""
        return self.conn.execute(
            "SELECT path, mtime_ns, mode, owner, xattrs FROM want_dirs ORDER BY length(path) DESC"
        ).fetchall()


def piece_extents(conn: sqlite3.Connection, content_id: int, piece: int) -> list[tuple[int, int]]:
    """(image offset, length) of each extent of one piece of a content in its disc's image, in order."""
    return conn.execute(
        "SELECT image_offset, length FROM extents WHERE content_id=? AND piece=? ORDER BY seq", (content_id, piece)
    ).fetchall()
