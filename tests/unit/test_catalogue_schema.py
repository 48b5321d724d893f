# Its subject is the schema itself, so this test may use SQL (tests/unit/test_sql_boundary.py exempts it).
"""Schema 3: a catalogue of schema 1 is brought forward (and then scanned without re-hashing),
contents stay unique by hash, and commands that only read open the catalogue read-only."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

from odarchive.catalogue import Catalogue, contents
from odarchive.catalogue.db import SCHEMA_VERSION
from tests.lib.trees import snapshot_listing, write

V1_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "catalogue_schema_v1.sql"


def make_v1_catalogue(path: Path, src: Path) -> None:
    """A schema-1 catalogue of `src` as the odarchive of before made it (raw SQL: this is the
    old format itself, which no current API writes)."""
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA.read_text())
    with db:
        for k, v in (("schema_version", "1"), ("archive_id", "x"), ("created_ns", "0"), ("chunk_size", str(16 << 20))):
            db.execute("INSERT INTO meta VALUES (?, ?)", (k, v))
        root = db.execute("INSERT INTO dirs (parent_id, name, sig) VALUES (0, ?, ?)", (b"src", b"old digest")).lastrowid
        db.execute("INSERT INTO sources (root_name, path, root_dir) VALUES (?, ?, ?)", (b"src", os.fsencode(src), root))
        db.execute(
            "INSERT INTO snapshots (source_id, started_ns, finished_ns, state, phase) VALUES (1, 1, 2, 'complete', 'done')"
        )
        st = os.stat(src)
        db.execute(
            "INSERT INTO entries (source_id, dir_id, name, kind, first_snap, size, mtime_ns, mode, ino)"
            " VALUES (1, 0, ?, 'd', 1, 0, ?, ?, ?)",
            (b"src", st.st_mtime_ns, st.st_mode, st.st_ino),
        )
        for name in sorted(os.listdir(src)):
            p = src / name
            st = os.lstat(p)
            if p.is_symlink():
                target = os.readlink(p).encode()
                db.execute(
                    "INSERT INTO entries (source_id, dir_id, name, kind, first_snap, size, mtime_ns, mode, ino,"
                    " target) VALUES (1, ?, ?, 'l', 1, ?, ?, ?, ?, ?)",
                    (root, name.encode(), len(target), st.st_mtime_ns, st.st_mode, st.st_ino, target),
                )
                continue
            data = p.read_bytes()
            db.execute(
                "INSERT OR IGNORE INTO contents (sha256, size) VALUES (?, ?)",
                (hashlib.sha256(data).digest(), len(data)),
            )
            cid = db.execute("SELECT id FROM contents WHERE sha256=?", (hashlib.sha256(data).digest(),)).fetchone()[0]
            db.execute(
                "INSERT INTO entries (source_id, dir_id, name, kind, first_snap, size, mtime_ns, mode, ino,"
                " content_id) VALUES (1, ?, ?, 'f', 1, ?, ?, ?, ?, ?)",
                (root, name.encode(), st.st_size, st.st_mtime_ns, st.st_mode, st.st_ino, cid),
            )
    db.close()


def test_schema_1_is_migrated_and_its_rows_are_kept_without_rehash(cli, home, tmp_path):
    src = tmp_path / "src"
    write(src / "a.txt", b"alpha")
    write(src / "b.txt", b"alpha")  # same content: one row in contents
    os.symlink("a.txt", src / "link")
    make_v1_catalogue(home / "catalogue.sqlite", src)
    with Catalogue.open(home / "catalogue.sqlite") as cat:
        assert cat.meta("schema_version") == str(SCHEMA_VERSION)
        sha = hashlib.sha256(b"alpha").digest()
        # one content, renumbered by schema 7 to the id of its first entry (a.txt, after the root)
        assert contents.id_of(cat.conn, sha) == 2 and contents.count(cat.conn) == 1
        # hashes stay unique: an insert of a known hash leaves the row alone, whoever does it
        cat.conn.execute("INSERT INTO contents (sha256, size) VALUES (?, 5)", (sha,))
        assert contents.count(cat.conn) == 1
    listing = snapshot_listing(home)
    assert [(p, k) for p, k, *_ in listing] == [
        (b"src", "d"),
        (b"src/a.txt", "f"),
        (b"src/b.txt", "f"),
        (b"src/link", "l"),
    ]
    # the first scan after the upgrade trusts size + mtime as schemas 1 and 2 did, fills in ctime and
    # owner, and hashes nothing
    summary = cli("create_db", "--json", str(src)).json()
    assert summary["hashed_files"] == 0 and summary["unchanged"] == 3
    assert snapshot_listing(home) == listing
    # from then on ctime counts: a change with the mtime put back is found
    st = os.stat(src / "a.txt")
    (src / "a.txt").write_bytes(b"ALPHA")
    os.utime(src / "a.txt", ns=(st.st_atime_ns, st.st_mtime_ns))
    summary = cli("create_db", "--json", str(src)).json()
    assert summary["hashed_files"] == 1
    assert (
        dict((p, s) for p, _k, _n, s, _t in snapshot_listing(home))[b"src/a.txt"]
        == hashlib.sha256(b"ALPHA").hexdigest()
    )


def test_change_with_mtime_put_back_is_found_by_ctime(cli, home, tmp_path):
    src = tmp_path / "src"
    write(src / "doc.txt", b"version 1")
    assert cli("create_db", str(src)).code == 0
    st = os.stat(src / "doc.txt")
    (src / "doc.txt").write_bytes(b"version 2")  # same size
    os.utime(src / "doc.txt", ns=(st.st_atime_ns, st.st_mtime_ns))
    summary = cli("create_db", "--json", str(src)).json()
    assert summary["hashed_files"] == 1 and summary["unchanged"] == 0
    (row,) = [r for r in snapshot_listing(home) if r[1] == "f"]
    assert row[3] == hashlib.sha256(b"version 2").hexdigest()


def test_home_inside_the_source_is_left_out_and_said_once(cli, tmp_path):
    src = tmp_path / "src"
    write(src / "data.txt", b"data")
    home = src / "home"
    first = cli("--home", str(home), "create_db", str(src))
    assert first.code == 0
    assert first.out.count("left out") == 1 and str(home) in first.out
    paths = [p for p, *_ in snapshot_listing(home)]
    assert paths == [b"src", b"src/data.txt"]
    again = cli("--home", str(home), "create_db", "--json", str(src)).json()
    assert again["excluded"] == [str(home)] and again["hashed_files"] == 0
