"""export_json / import_json: the seed's catalogue.json version 1 round-trips; bad input is
rejected whole, with the offending entry named, and changes nothing."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from odarchive.errors import EXIT_INPUT
from tests.lib.trees import row_counts, snapshot_listing, write

H = hashlib.sha256(b"x").hexdigest()


def test_export_is_seed_format_and_round_trips(cli, home, tmp_path):
    src = tmp_path / "src"
    write(src / "a.txt", b"x")
    write(src / "sub" / "b.txt", b"x")
    write(src / "c.txt", b"other")
    assert cli("create_db", str(src)).code == 0
    out = tmp_path / "catalogue.json"
    assert cli("export_json", str(out)).code == 0
    doc = json.loads(out.read_text())
    assert doc["version"] == 1
    assert doc["files"][H]["filenames"] == {"src/a.txt": None, "src/sub/b.txt": None}
    assert doc["files"][H]["size"] == 1
    assert isinstance(doc["files"][H]["mtime"], float)
    assert abs(doc["files"][H]["mtime"] - os.stat(src / "sub" / "b.txt").st_mtime) < 1e-3

    from odarchive.cli import main

    home2 = tmp_path / "home2"
    assert main(["--home", str(home2), "import_json", str(out)]) == 0
    files = lambda h: [(p, k, s, d) for p, k, s, d, _ in snapshot_listing(h) if k == "f"]  # noqa: E731
    assert files(home2) == files(home)
    out2 = tmp_path / "again.json"
    assert main(["--home", str(home2), "export_json", str(out2)]) == 0
    assert json.loads(out2.read_text()) == doc


def test_import_accepts_the_seed_example_shape(cli, home, tmp_path):
    f = tmp_path / "seed.json"
    f.write_text(
        json.dumps(
            {
                "version": 1,
                "files": {
                    H: {
                        "filenames": {"data/first.html": None, "data/first_copy.html": None},
                        "size": 1,
                        "mtime": 1538611200,
                    },
                    hashlib.sha256(b"yy").hexdigest(): {
                        "filenames": {"data/second.txt": None},
                        "size": 2,
                        "mtime": None,
                    },
                },
            }
        )
    )
    r = cli("import_json", str(f), "--json")
    assert r.code == 0, r.err
    assert r.json() == {"files": 3, "new_contents": 2, "sources": 1}
    info = cli("get_info", "--json").json()
    assert info["files"] == 3 and info["contents"] == 2 and info["sources"][0]["name"] == "data"


@pytest.mark.parametrize(
    "files, complaint",
    [
        ({H: {"filenames": {"/etc/passwd": None}, "size": 1}}, "absolute path"),
        ({H: {"filenames": {"data/../../escape": None}, "size": 1}}, "'..'"),
        ({H: {"filenames": {"data/nul\u0000byte": None}, "size": 1}}, "NUL"),
        ({H: {"filenames": {"data/a": None}, "size": "1"}}, "size: '1' is not an integer"),
        ({H: {"filenames": {"data/a": None}, "size": -4}}, "size: -4 is out of range"),
        ({H: {"filenames": {"data/a": None}, "size": 1, "mtime": "yesterday"}}, "mtime: 'yesterday' is not a number"),
        ({H: {"filenames": "data/a", "size": 1}}, "filenames: not an object or a list of paths"),
        ({"not-a-hash": {"filenames": {"data/a": None}, "size": 1}}, "not a SHA-256"),
        ({H: {"filenames": {"toplevel": None}, "size": 1}}, "needs a root name"),
        ({H: {"filenames": {"data/" + "n" * 256: None}, "size": 1}}, "over 255 bytes"),
        (
            {
                H: {"filenames": {"data/a": None}, "size": 1},
                hashlib.sha256(b"z").hexdigest(): {"filenames": {"data/a": None}, "size": 1},
            },
            "listed twice",
        ),
    ],
)
def test_hostile_or_malformed_import_is_rejected_and_changes_nothing(cli, home, tmp_path, files, complaint):
    src = tmp_path / "src"
    write(src / "keep.txt", b"keep")
    assert cli("create_db", str(src)).code == 0
    before = row_counts(home)
    bad = tmp_path / "bad.json"
    good = {"data/fine.txt": None}
    bad.write_text(
        json.dumps(
            {"version": 1, "files": {hashlib.sha256(b"ok").hexdigest(): {"filenames": good, "size": 2}, **files}}
        )
    )
    r = cli("import_json", str(bad))
    assert r.code == EXIT_INPUT
    assert complaint in r.err and "nothing imported" in r.err
    assert row_counts(home) == before


@pytest.mark.parametrize("text", ["not json", "[]", '{"version": 2, "files": {}}', '{"version": 1}'])
def test_import_of_a_file_that_is_not_a_catalogue(cli, home, tmp_path, text):
    f = tmp_path / "x.json"
    f.write_text(text)
    r = cli("import_json", str(f))
    assert r.code == EXIT_INPUT and "catalogue.json" in r.err


def test_file_and_directory_of_the_same_name_is_rejected(cli, home, tmp_path):
    f = tmp_path / "x.json"
    f.write_text(
        json.dumps(
            {
                "version": 1,
                "files": {
                    H: {"filenames": {"data/a": None}, "size": 1},
                    hashlib.sha256(b"q").hexdigest(): {"filenames": {"data/a/b": None}, "size": 1},
                },
            }
        )
    )
    r = cli("import_json", str(f))
    assert r.code == EXIT_INPUT and "both a file and a directory" in r.err
    assert not (home / "catalogue.sqlite").exists()  # the catalogue made for the import is not left behind
