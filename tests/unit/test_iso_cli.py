"""The disc commands in-process: create_iso selections and output, num_isos, get_info --discs."""

from __future__ import annotations

from pathlib import Path


def test_create_iso_writes_named_images_and_get_info_summarises(cli, home: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    for i in range(3):
        (src / "d" / f"f{i}").write_bytes(bytes([i]) * 900_000)
    assert cli("create_db", str(src)).code == 0
    r = cli("create_iso", "0")
    assert r.code == 5 and "no planned disc 0" in r.err and "plan_iso" in r.err
    assert cli("plan_iso", "1600k").code == 0
    n = int(cli("num_isos").out)
    assert n >= 2
    out = tmp_path / "out"
    r = cli("write_iso", "0-1", "--out", str(out), "--json")
    assert r.code == 0, r.err
    assert [Path(i["image"]).name for i in r.json()["images"]] == ["ODARCHIVE_0000.iso", "ODARCHIVE_0001.iso"]
    assert cli("create-iso", str(n + 5)).code == 5  # no such disc
    again = cli("create_iso", "0-1", "--out", str(out), "--json").json()["images"]
    assert [i["skipped"] for i in again] == [True, True]
    forced = cli("create_iso", "1", "--out", str(out), "--force", "--json").json()["images"]
    assert forced[0]["skipped"] is False
    info = cli("get_info", "--json", "--discs").json()
    assert info["discs"] == n
    states = [d["state"] for d in info["disc_summaries"]]
    assert states[:2] == ["written", "written"] and all(
        d["used_bytes"] <= d["capacity_bytes"] for d in info["disc_summaries"]
    )
    assert cli("verify", *[i["image"] for i in r.json()["images"]]).code == 0


def test_one_image_build_at_a_time(cli, home: Path, tmp_path: Path) -> None:
    from odarchive.jobs import exclusive

    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_bytes(b"x")
    assert cli("create_db", str(src)).code == 0
    assert cli("plan_iso", "cd").code == 0
    with exclusive(home / "jobs", "create_iso", "an image build"):
        r = cli("create_iso", "0")
    assert r.code != 0 and "image build" in r.err
    assert cli("create_iso", "0").code == 0
    assert not (home / "jobs" / "create_iso.json").exists()
