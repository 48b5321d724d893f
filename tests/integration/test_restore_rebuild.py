"""restore and rebuild: files come back byte-identical from the disc images, a missing disc is
named, an interrupted restore continues, nothing escapes the target, and a catalogue rebuilt
from the images alone restores the same files; hostile discs are refused."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from odarchive.cli import main
from odarchive.errors import EXIT_FAILED, EXIT_INPUT
from odarchive.sample import make_sample_tree
from tests.lib.trees import placements_of, write


def run(home: Path, *argv: str) -> int:
    return main(["--home", str(home), *argv])


def tree_state(root: Path) -> dict[bytes, tuple]:
    """Everything restore promises to bring back: kind, bytes, mode, mtime, link targets."""
    out = {}
    base = os.fsencode(root)
    for dirpath, dirnames, filenames in os.walk(base):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = p[len(base) + 1 :]
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("l", os.readlink(p), st.st_mtime_ns)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("d", stat.S_IMODE(st.st_mode), st.st_mtime_ns)
            else:
                out[rel] = (
                    "f",
                    hashlib.sha256(open(p, "rb").read()).hexdigest(),
                    stat.S_IMODE(st.st_mode),
                    st.st_mtime_ns,
                )
    return out


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, Path]:
    """The sample tree (plus a file split over discs) on 1.5 MB discs, images written."""
    base = tmp_path_factory.mktemp("archive")
    src = make_sample_tree(base / "family", large_bytes=1_200_000)
    os.chmod(src / "documents" / "letter.txt", 0o600)
    write(src / "video" / "long.bin", os.urandom(2_500_000))  # larger than a disc: pieces
    home = base / "home"
    assert run(home, "create_db", str(src)) == 0
    assert run(home, "plan_iso", "1500k") == 0
    assert run(home, "create_iso", "all") == 0
    return src, home


def test_restore_everything_byte_identical(archive, tmp_path):
    src, home = archive
    assert run(home, "restore", "--to", str(tmp_path / "out")) == 0
    assert tree_state(tmp_path / "out" / "family") == tree_state(src)


def test_missing_disc_is_named_and_the_rest_restored(archive, tmp_path, capsys):
    src, home = archive
    images = tmp_path / "images"
    images.mkdir()
    isos = sorted((home / "isos").glob("*.iso"))
    assert len(isos) >= 3
    for iso in isos[1:]:
        os.link(iso, images / iso.name)
    capsys.readouterr()
    code = run(home, "restore", "--to", str(tmp_path / "out"), "--images", str(images), "--json")
    assert code == EXIT_FAILED
    report = json.loads(capsys.readouterr().out)
    assert report["missing_discs"] == [0]
    assert report["failed"] and all(
        "disc 0 is needed" in f["reason"] or "discs 0" in f["reason"] for f in report["failed"]
    )
    missing = {f["path"] for f in report["failed"]}
    restored = tree_state(tmp_path / "out" / "family")
    for rel, state in tree_state(src).items():
        if b"family/" + rel in {os.fsencode(m) for m in missing}:
            assert rel not in restored
        else:
            assert restored[rel] == state
    assert not [p for p in restored if p.endswith(b".odarchive-restore")]


def test_interrupted_restore_continues(archive, tmp_path, monkeypatch):
    src, home = archive
    import odarchive.restore as restore_mod

    calls = {"n": 0}
    real = restore_mod.Restorer._complete

    def flaky(self, cid):
        calls["n"] += 1
        if calls["n"] == 10:
            raise KeyboardInterrupt
        return real(self, cid)

    monkeypatch.setattr(restore_mod.Restorer, "_complete", flaky)
    out = tmp_path / "out"
    assert run(home, "restore", "--to", str(out)) == 130
    monkeypatch.setattr(restore_mod.Restorer, "_complete", real)
    done_before = sum(1 for v in tree_state(out / "family").values() if v[0] == "f")
    assert done_before > 0
    from odarchive.catalogue import Catalogue
    from odarchive.restore import Restorer, choose_snapshots

    with Catalogue.open(home / "catalogue.sqlite") as cat:
        report = Restorer(cat, out, home / "isos").run(choose_snapshots(cat, None), ())
    assert report.ok and report.files_already_correct == done_before
    assert tree_state(out / "family") == tree_state(src)


def test_damaged_image_file_is_not_put_in_place(archive, tmp_path, capsys):
    src, home = archive
    images = tmp_path / "images"
    images.mkdir()
    for iso in (home / "isos").glob("*.iso"):
        (images / iso.name).write_bytes(iso.read_bytes())
    from odarchive.catalogue import Catalogue
    from odarchive.catalogue import discs as disc_rows

    with Catalogue.open(home / "catalogue.sqlite") as cat:
        ((_, disc, _, _, ((off, _), *_)),) = placements_of(cat, src.name.encode() + b"/documents/letter.txt")
        name = disc_rows.image_name(cat.conn, disc)
    with open(images / name, "r+b") as f:
        f.seek(off)
        byte = f.read(1)
        f.seek(off)
        f.write(bytes([byte[0] ^ 0xFF]))
    capsys.readouterr()
    assert run(home, "restore", "--to", str(tmp_path / "out"), "--images", str(images), "--json") == EXIT_FAILED
    report = json.loads(capsys.readouterr().out)
    damaged = {f["path"] for f in report["failed"]}
    assert "family/documents/letter.txt" in damaged  # and its duplicate, same content
    assert "family/documents/letter copy.txt" in damaged
    assert not (tmp_path / "out" / "family" / "documents" / "letter.txt").exists()


def test_restore_some_paths_only(archive, tmp_path):
    src, home = archive
    assert run(home, "restore", "family/photos/2020", "--to", str(tmp_path / "out")) == 0
    got = tree_state(tmp_path / "out" / "family")
    assert set(got) == {b"photos", b"photos/2020"} | {p for p in tree_state(src) if p.startswith(b"photos/2020/")}


def test_restore_refuses_to_write_through_a_planted_symlink(archive, tmp_path):
    _src, home = archive
    out = tmp_path / "out"
    outside = tmp_path / "outside"
    outside.mkdir()
    out.mkdir()
    os.symlink(outside, out / "family")
    assert run(home, "restore", "--to", str(out)) == EXIT_INPUT
    assert list(outside.iterdir()) == []


def test_rebuild_from_images_alone_then_restore(archive, tmp_path, capsys):
    src, home = archive
    new_home = tmp_path / "recovered"
    isos = sorted(str(p) for p in (home / "isos").glob("*.iso"))
    assert run(new_home, "rebuild", *isos) == 0
    capsys.readouterr()
    assert run(new_home, "get_info", "--json") == 0
    info = json.loads(capsys.readouterr().out)
    assert run(home, "get_info", "--json") == 0
    original = json.loads(capsys.readouterr().out)
    for key in ("files", "contents", "bytes", "unique_bytes"):
        assert info[key] == original[key], key
    assert info["directories"] == original["directories"] and info["symlinks"] == original["symlinks"]
    out = tmp_path / "out"
    assert run(new_home, "restore", "--to", str(out), "--images", str(home / "isos")) == 0
    # bytes, modes, mtimes, symlinks and empty directories: all from the discs alone
    assert tree_state(out / "family") == tree_state(src)
    # a second rebuild into the same (now full) home is refused
    assert run(new_home, "rebuild", *isos) == EXIT_INPUT


@pytest.mark.parametrize(
    "evil",
    [
        {"raw": b"DATA/../../escape".hex()},
        {"raw": b"/etc/passwd".hex()},
        {"raw": b"DATA/root/nul\0byte".hex()},
        {"sha256": "f" * 64},
        {"part": 1, "offset": 0, "length": 10**9, "part_sha256": "0" * 64},
    ],
)
def test_rebuild_rejects_a_hostile_disc_and_writes_nothing(tmp_path, evil):
    import pycdlib

    sha = hashlib.sha256(b"hello").hexdigest()
    entry = {"sha256": sha, "iso": "/DATA/ROOT/A.;1", "joliet": "/DATA/root/a", **evil}
    doc = {
        "version": 1,
        "files": {sha: {"filenames": {"root/a": None}, "size": 5, "mtime": 1.0}},
        "odarchive": {
            "format": 1,
            "archive_id": "x",
            "disc": 0,
            "label": "EVIL",
            "data_dir": "DATA",
            "chunk_size": 16777216,
            "paths": {"DATA/root/a": entry},
        },
    }
    data = json.dumps(doc).encode()
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, udf="2.60")
    import io

    iso.add_fp(io.BytesIO(data), len(data), "/CATALOG.JSO;1", joliet_path="/catalogue.json", udf_path="/catalogue.json")
    iso.add_directory("/DATA", joliet_path="/DATA", udf_path="/DATA")
    iso.add_directory("/DATA/ROOT", joliet_path="/DATA/root", udf_path="/DATA/root")
    iso.add_fp(io.BytesIO(b"hello"), 5, "/DATA/ROOT/A.;1", joliet_path="/DATA/root/a", udf_path="/DATA/root/a")
    image = tmp_path / "evil_0000.iso"
    iso.write(str(image))
    iso.close()
    home = tmp_path / "home"
    before = set(os.listdir(tmp_path))
    assert run(home, "rebuild", str(image)) == EXIT_INPUT
    assert set(os.listdir(tmp_path)) == before  # every disc is checked before the home is made
