# Its subject is the schema's indexes and query plans, so this test may use SQL
# (tests/unit/test_sql_boundary.py exempts it).
"""Every lookup the mount, the planner, the image builder and the scan make per file or per
directory is indexed: each statement they run is traced and its query plan (EXPLAIN QUERY PLAN)
may not scan a table or sort (listings come in name order from the index). An index dropped or
a query that stops matching one (a partial index needs its WHERE terms) fails here."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from odarchive.catalogue import Catalogue, attributes, browse, contents, images, plans, seedjson, tree
from odarchive.catalogue.scanning import ScanRows
from tests.lib.synthetic_catalogue import synthetic_catalogue

FILES = 40
PER_DIR = 10
INO = 77


def make(path: Path) -> None:
    """The synthetic catalogue and two hard links of one file."""
    synthetic_catalogue(path, FILES, PER_DIR, distinct=True)
    with Catalogue.open(path) as c:
        snap, node, _ = _snapshot(c)
        hard_link = (5, 1, 0o100644, 0, None, INO, None)
        with c.transaction():
            ScanRows(c.conn, 1, snap, None).insert_hashed(
                [(node, b"link1", hard_link, None), (node, b"link2", hard_link, None)], [(b"L" * 32, 5)] * 2
            )


@pytest.fixture(scope="module")
def cat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalogue]:
    path = tmp_path_factory.mktemp("plans") / "catalogue.sqlite"
    make(path)
    with Catalogue.open(path) as c:
        yield c


def _plans(conn: sqlite3.Connection, call: Callable[[], object]) -> list[tuple[str, list[str]]]:
    """(statement, its query plan's lines) of every statement `call` runs."""
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        result = call()
        if isinstance(result, Iterator):
            list(result)
    finally:
        conn.set_trace_callback(None)
    return [(sql, [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]) for sql in statements]


def _snapshot(cat: Catalogue) -> tuple[int, int, int]:
    """(snapshot, a directory node with files, a content id in it)."""
    (src, snap), *_ = cat.latest_snapshots()
    node = tree.child_dir(cat, src.root_dir, b"d00001")
    assert node is not None
    entry = tree.lookup(cat, node, b"f%07d" % PER_DIR, snap.id)
    assert entry is not None and entry.content_id is not None
    return snap.id, node, entry.content_id


def _lookups(cat: Catalogue) -> dict[str, Callable[[], object]]:
    snap, node, cid = _snapshot(cat)
    conn = cat.conn
    name = b"f%07d" % PER_DIR
    sha = contents.get(conn, cid)[0]
    rows = ScanRows(conn, 1, snap, None)
    return {
        "mount: lookup by (directory, name)": lambda: browse.lookup(conn, node, name, snap),
        "mount: listing": lambda: browse.list_entries(conn, node, snap),
        "mount: is a directory small": lambda: browse.entries_at_most(conn, node, snap, 10),
        "mount: listing with attributes, by name": lambda: browse.list_attrs(conn, node, snap),
        "mount: hard links of an inode": lambda: browse.links(conn, 1, INO, snap),
        "tree: lookup": lambda: tree.lookup(cat, node, name, snap),
        "tree: listing by name": lambda: tree.list_dir(cat, node, snap),
        "tree: resolve a path": lambda: tree.resolve(cat, b"big/d00001/" + name, snap),
        "planner: unplaced bytes of a directory": lambda: plans.unplaced_bytes(conn, node, snap),
        "builder: every name of a content": lambda: images.live_names_of(conn, cid),
        "builder: attributes of a content's names": lambda: attributes.of_content(conn, cid),
        "builder: attributes of a batch of contents": lambda: attributes.of_contents(conn, [cid, 1]),
        "dedup: content by hash": lambda: contents.id_of(conn, sha),
        "dedup: contents of a batch of hashes": lambda: contents.ids_for(conn, [(sha, 10)]),
        "content by id": lambda: contents.get(conn, cid),
        "scan: open rows of a directory": lambda: rows.open_rows(node),
        "scan: open row by name": lambda: rows.open_rows(node, name),
        "scan: files to hash": lambda: rows.unhashed(),
        "scan: bytes to hash": lambda: rows.pending(),
    }


def test_every_hot_lookup_is_indexed(cat: Catalogue) -> None:
    bad = []
    for what, call in _lookups(cat).items():
        traced = _plans(cat.conn, call)
        assert traced, what
        for sql, plan in traced:
            if sql.startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")):
                continue
            for line in plan:
                # the names of one content are a handful of rows: sorting them is fine
                sorts_ok = what == "builder: every name of a content" and "TEMP B-TREE" in line
                if line.startswith("SCAN") or ("TEMP B-TREE" in line and not sorts_ok):
                    bad.append(f"{what}: {line}\n    {sql}")
    assert not bad, "\n".join(bad)


def test_new_contents_take_their_entry_id_and_only_further_names_are_in_the_content_index(
    cat: Catalogue, tmp_path: Path
) -> None:
    # the synthetic files each brought their content; of the two hard links, the second is a further name
    assert cat.conn.execute("SELECT name FROM entries WHERE content_off != 0").fetchall() == [(b"link2",)]
    in_index = cat.conn.execute(
        "SELECT count(*) FROM entries INDEXED BY entries_by_content WHERE content_id > 0 AND content_id != id"
    ).fetchone()[0]
    assert in_index == 1
    # a second name of the same content (dedup) goes to the index and is found with the first
    path = tmp_path / "dedup.sqlite"
    synthetic_catalogue(path, 3, 3, distinct=True)
    with Catalogue.open(path) as other:
        (src, s), *_ = other.latest_snapshots()
        node = tree.child_dir(other, src.root_dir, b"d00000")
        assert node is not None
        first = tree.lookup(other, node, b"f0000000", s.id)
        assert first is not None and first.content_id == first.id
        rows = ScanRows(other.conn, src.id, s.id, None)
        sha, size = contents.get(other.conn, first.content_id)
        with other.transaction():
            rows.insert_hashed([(node, b"again", (size, 1, 0o100644, 0, None, None, None), None)], [(sha, size)])
        names = [name for _, name, _, _ in images.live_names_of(other.conn, first.content_id)]
        assert names == [b"again", b"f0000000"]
        assert [path for path, _ in attributes.of_content(other.conn, first.content_id)] == []


def test_export_streams_in_content_order_without_sorting_every_file(cat: Catalogue) -> None:
    """catalogue.json goes content by content: its one pass over the contents may scan, but a
    sort of every file would hold them all (120 MB at a million files)."""
    out = io.StringIO()
    traced = _plans(cat.conn, lambda: seedjson.export_json(cat, out))
    sorts = [f"{line}\n    {sql}" for sql, plan in traced for line in plan if "TEMP B-TREE" in line]
    assert not sorts, "\n".join(sorts)
    assert out.getvalue().count('"filenames"') == FILES + 1  # the two hard links share a content
