"""import_json and rebuild refuse numbers out of type or range, and nesting without bounds,
with exit 3 naming the entry and nothing in the home changed; never a traceback."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from odarchive.errors import EXIT_INPUT
from tests.lib.crafted import SHA, disc_doc, disc_image, home_state
from tests.lib.trees import write

H = hashlib.sha256(b"a").hexdigest()


@pytest.fixture
def scanned(cli, home: Path, tmp_path: Path) -> Path:
    write(tmp_path / "src" / "keep.txt", b"keep")
    assert cli("create_db", str(tmp_path / "src")).code == 0
    return home


@pytest.mark.parametrize(
    "entry, named",
    [
        ('{"filenames": {"r/a": null}, "size": 1, "mtime": NaN}', None),
        ('{"filenames": {"r/a": null}, "size": 1, "mtime": Infinity}', None),
        ('{"filenames": {"r/a": null}, "size": 1, "mtime": -Infinity}', None),
        ('{"filenames": {"r/a": null}, "size": 1, "mtime": 1e300}', ".mtime: 1e+300 is out of range"),
        ('{"filenames": {"r/a": null}, "size": 1, "mtime": -1e300}', ".mtime: -1e+300 is out of range"),
        ('{"filenames": {"r/a": null}, "size": 1000000000000000000000000000000}', "'size'"),
        ('{"filenames": {"r/a": null}, "size": 9223372036854775808}', "'size'"),
        ('{"filenames": {"r/a": null}, "size": 1.5}', ".size: 1.5 is not an integer"),
        ('{"filenames": {"r/a": null}, "size": [1]}', ".size: an object or array is not an integer"),
    ],
)
def test_import_refuses_numbers_out_of_range(cli, scanned: Path, tmp_path: Path, entry: str, named: str | None) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(f'{{"version": 1, "files": {{"{H}": {entry}}}}}')
    before = home_state(scanned)
    r = cli("import_json", str(bad))
    assert r.code == EXIT_INPUT and "Traceback" not in r.err
    assert H in r.err  # the entry is named
    if named:
        assert named in r.err
    assert home_state(scanned) == before


def test_import_refuses_deep_nesting_quickly(cli, scanned: Path, tmp_path: Path) -> None:
    bad = tmp_path / "deep.json"
    bad.write_text('{{"version": 1, "files": {{"{}": {{"filenames": {}}}}}}}'.format(H, "[" * 100_000 + "]" * 100_000))
    before = home_state(scanned)
    r = cli("import_json", str(bad))
    assert r.code == EXIT_INPUT and "nested deeper than" in r.err and H in r.err
    assert home_state(scanned) == before


def test_import_into_a_new_home_leaves_no_catalogue_on_refusal(cli, home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(f'{{"version": 1, "files": {{"{H}": {{"filenames": {{"r/a": null}}, "size": -1}}}}}}')
    assert cli("import_json", str(bad)).code == EXIT_INPUT
    assert home_state(home) == ((), None)


def test_import_names_after_their_size_or_before_it_stream_alike(cli, home: Path, tmp_path: Path) -> None:
    """Export writes size and mtime first; a foreign file may put the names first."""
    names = {f"r/d{i % 7}/f{i}": None for i in range(3000)}
    f = tmp_path / "names_first.json"
    f.write_text(json.dumps({"version": 1, "files": {H: {"filenames": names, "size": 3, "mtime": 1.5}}}))
    r = cli("import_json", str(f), "--json")
    assert r.code == 0 and r.json()["files"] == 3000
    out = tmp_path / "out.json"
    assert cli("export_json", str(out)).code == 0
    text = out.read_text()
    assert text.index('"size"') < text.index('"filenames"')
    entry = json.loads(text)["files"][H]
    assert entry["size"] == 3 and entry["mtime"] == 1.5 and set(entry["filenames"]) == set(names)


def test_import_keeps_names_that_are_not_utf8(cli, home: Path, tmp_path: Path) -> None:
    name = b"r/caf\xe9 \xff\xfe \xef\xb7\x90 \\udcff".decode("utf-8", "surrogateescape")
    f = tmp_path / "raw.json"
    f.write_text(json.dumps({"version": 1, "files": {H: {"size": 3, "mtime": 1.5, "filenames": {name: None}}}}))
    assert cli("import_json", str(f)).code == 0
    out = tmp_path / "out.json"
    assert cli("export_json", str(out)).code == 0
    assert list(json.loads(out.read_text())["files"][H]["filenames"]) == [name]


@pytest.mark.parametrize(
    "change, named",
    [
        ({"disc": 10**30}, "disc number: out of range"),
        ({"disc": -1}, "disc number: out of range"),
        ({"label": "L" * 10_000}, "over 100 characters"),
        ({"other_filenames": {SHA: [["root/b", 0o1777777, 5]]}}, "mode: out of range"),
        ({"other_filenames": {SHA: [["root/b", 0o100644, 2**64]]}}, "mtime_ns: out of range"),
        ({"other_filenames": {SHA: [["root/b", 0o100644, float("nan")]]}}, "mtime_ns: not an integer"),
        ({"tree": [["d", "root", 0o40755, float("inf"), None, None]]}, "mtime_ns: not an integer"),
        ({"other_filenames_complete": "yes"}, "other_filenames_complete"),
    ],
)
def test_rebuild_refuses_numbers_out_of_range(tmp_path: Path, cli, home: Path, change: dict, named: str) -> None:
    image = disc_image(tmp_path / "crafted_0000.iso", json.dumps(disc_doc(**change)).encode())
    r = cli("rebuild", str(image))
    assert r.code == EXIT_INPUT and named in r.err and "nothing was written" in r.err
    assert home_state(home) == ((), None)


@pytest.mark.parametrize(
    "doc",
    [
        lambda d: json.dumps(d).replace('"mtime": 1.0', '"mtime": NaN'),
        lambda d: json.dumps(d).replace('"mtime": 1.0', '"mtime": 1e300'),
        lambda d: json.dumps(d).replace('"size": 5', '"size": 1000000000000000000000000000000'),
        lambda d: json.dumps(d).replace('"mode": 33188', '"mode": 99999999999'),
        lambda d: json.dumps(d)[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}",
    ],
)
def test_rebuild_refuses_hostile_numbers_and_nesting(tmp_path: Path, cli, home: Path, doc) -> None:
    image = disc_image(tmp_path / "crafted_0000.iso", doc(disc_doc()).encode())
    r = cli("rebuild", str(image))
    assert r.code == EXIT_INPUT and "Traceback" not in r.err and "crafted_0000.iso" in r.err
    assert home_state(home) == ((), None)


def test_a_crafted_disc_that_is_fine_rebuilds(tmp_path: Path, cli, home: Path) -> None:
    image = disc_image(tmp_path / "crafted_0000.iso", json.dumps(disc_doc()).encode())
    r = cli("rebuild", str(image), "--json")
    assert r.code == 0, r.err
    assert r.json()["files"] == 2  # root/a and its other name root/b
