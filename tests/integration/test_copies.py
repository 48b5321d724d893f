"""Copies in sets, under-replication, whereis (files, directories, split files, names that are
not UTF-8), and burning set B on the simulated robot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.lib.trees import disc_copies, disc_ids

pytestmark = pytest.mark.usefixtures("simulator_stopped")


@pytest.fixture
def archive(cli, home: Path, tmp_path: Path) -> Path:
    src = tmp_path / "photos"
    (src / "2019").mkdir(parents=True)
    for n in range(3):
        (src / "2019" / f"p{n}.jpg").write_bytes(bytes([n]) * 120_000)
    (src / "big.bin").write_bytes(os.urandom(700_000))  # larger than a disc: split
    (src / os.fsdecode(b"caf\xe9.txt")).write_bytes(b"latin-1 name")
    (home / "odarchive.toml").write_text(
        "[archive]\ncopies = 2\n[robot.simulator]\nspeed = 1000.0\nslots = 16\nblanks = 14\nidle_exit_s = 60.0\n"
    )
    assert cli("create_db", str(src)).code == 0
    r = cli("plan_iso", "900k", "--json")
    assert r.code == 0, r.err
    assert r.json()["copies"] == 2 and r.json()["new_copies"] == len(r.json()["new_discs"]) >= 2
    return src


@pytest.mark.slow
def test_copies_are_planned_reported_and_burned_in_sets(cli, home: Path, archive: Path) -> None:
    info = cli("get_info", "--json").json()["under_replicated"]
    assert info["copies_wanted"] == 2 and info["files"] == 5 and info["discs"] >= 2
    r = cli("robot", "burn", "--segments", "all", "--json")
    assert r.code == 0, r.err
    assert cli("get_info", "--json").json()["under_replicated"]["files"] == 5  # one copy is not two
    r = cli("robot", "burn", "--segments", "all", "--copy", "B", "--json")
    assert r.code == 0, r.err
    assert r.json()["set"] == "B" and len(r.json()["burned"]) == info["discs"]
    assert cli("get_info", "--json").json()["under_replicated"]["files"] == 0
    copies = [c for d in disc_ids(home) for c in disc_copies(home, d)]
    slots_a = {c.slot for c in copies if c.copy == 0}
    slots_b = {c.slot for c in copies if c.copy and c.state == "verified"}
    assert None not in slots_a | slots_b and not slots_a & slots_b  # two different discs each
    again = cli("robot", "burn", "--segments", "all", "--copy", "1", "--json").json()
    assert again["burned"] == [] and len(again["skipped"]) == info["discs"]
    w = cli("whereis", "photos/2019/p1.jpg", "--json").json()["paths"][0]
    [disc] = w["discs"]
    assert [c["set"] for c in disc["copies"]] == ["A", "B"]
    assert all(
        c["state"] == "verified" and c["where"].startswith("slot ") and c["last_verified_ns"] for c in disc["copies"]
    )
    assert cli("robot", "burn", "--segments", "0", "--copy", "C").code == 5  # no set C planned
    slot_b = disc["copies"][1]["slot"]
    assert cli("robot", "export", str(slot_b), "--location", "off-site box 2").code == 0
    moved = cli("whereis", "photos/2019/p1.jpg", "--json").json()["paths"][0]["discs"][0]["copies"][1]
    assert moved["slot"] is None and moved["where"] == "off-site box 2" and moved["location"] == "off-site box 2"
    from odarchive.catalogue import Catalogue
    from odarchive.copies import offline_discs

    with Catalogue.open(home / "catalogue.sqlite") as cat:
        assert offline_discs(cat) == [
            {
                "disc": disc["disc"],
                "copy": 1,
                "set": "B",
                "location": "off-site box 2",
                "text": f"insert disc {disc['disc']} (set B): off-site box 2",
            }
        ]
    status = cli("status", "--json")
    assert status.code == 0 and status.json()["offline_discs"][0]["location"] == "off-site box 2"
    shown = cli("status")
    assert shown.code == 0 and f"insert disc {disc['disc']} (set B): off-site box 2" in shown.out


def test_whereis_files_directories_split_files_and_raw_names(cli, home: Path, archive: Path) -> None:
    r = cli("whereis", "photos/big.bin", "photos/2019", os.fsdecode(b"photos/caf\xe9.txt"), "--json")
    assert r.code == 0, r.err
    big, folder, raw = r.json()["paths"]
    assert big["kind"] == "file" and len(big["pieces"]) >= 2 and len(big["discs"]) >= 2
    assert sum(p["length"] for p in big["pieces"]) == 700_000
    assert folder["kind"] == "directory" and folder["files"] == 3 and folder["size"] == 360_000
    assert sum(d["files"] for d in folder["discs"]) == 3
    assert bytes.fromhex(raw["path_hex"]) == b"photos/caf\xe9.txt" and raw["discs"]
    assert all(c["where"] == "not burned yet" for d in big["discs"] for c in d["copies"])
    text = cli("whereis", os.fsdecode(b"photos/caf\xe9.txt"))
    assert "caf\\xe9.txt" in text.out and "set B" in text.out
    missing = cli("whereis", "photos/nope")
    assert missing.code == 3 and "not in the latest snapshot" in missing.err
