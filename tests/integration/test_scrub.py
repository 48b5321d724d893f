"""Scrub on the simulated robot: a disc made unreadable is flagged and its health recorded,
the others read back identical; robot burn --replace burns a new one; a decaying disc with
error correction is `corrected`."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from robot_drivers.simulator.mechanism import Mechanism
from tests.lib.trees import disc_copies

pytestmark = pytest.mark.usefixtures("simulator_stopped")


@pytest.fixture
def burned(cli, home: Path, tmp_path: Path) -> Path:
    src = tmp_path / "photos"
    src.mkdir()
    for n in range(4):
        (src / f"p{n}.jpg").write_bytes(os.urandom(150_000))
    (home / "odarchive.toml").write_text(
        "[archive]\ncopies = 2\n[robot.simulator]\nspeed = 1000.0\nslots = 20\nblanks = 16\nidle_exit_s = 60.0\n"
    )
    assert cli("create_db", str(src)).code == 0
    assert cli("plan_iso", "1000k").code == 0
    assert cli("robot", "burn", "--segments", "all").code == 0
    assert cli("robot", "burn", "--segments", "all", "--copy", "B").code == 0
    return src


def _slot(home: Path, disc: int) -> int:
    slot = disc_copies(home, disc)[0].slot
    assert slot is not None
    return slot


def test_scrub_flags_an_unreadable_disc_and_a_replacement_is_burned(cli, home: Path, burned: Path) -> None:
    ok = cli("scrub", "--json")
    assert ok.code == 0, ok.err
    first = ok.json()["scrubbed"]
    assert first and all(r["result"] == "ok" and r["read_bytes_per_s"] > 0 for r in first)
    assert {r["copy"] for r in first} == {0, 1}
    old_slot = _slot(home, 0)
    assert cli("robot", "simulate", "--fault", f"unreadable {old_slot}").code == 0
    due = cli("scrub", "--older-than", "1h", "--json")  # nothing is due: every copy was checked just now
    assert due.code == 0 and due.json()["scrubbed"] == []
    bad = cli("scrub", "--discs", "0", "--json")
    assert bad.code == 1 and "need attention" in bad.err and "--replace" in bad.err
    results = {r["copy"]: r for r in bad.json()["scrubbed"]}
    assert results[0]["result"] == "unreadable" and results[0]["unreadable_sectors"] > 0
    assert results[1]["result"] == "ok"
    history = cli("scrub", "--history", "--json").json()["history"]
    assert [h["result"] for h in history if h["disc"] == 0 and h["copy"] == 0] == ["ok", "unreadable"]
    r = cli("robot", "burn", "--replace", "0", "--json")
    assert r.code == 0, r.err
    assert r.json()["replaced"]["image_from"] == "the image file" and [b["disc"] for b in r.json()["burned"]] == [0]
    assert _slot(home, 0) != old_slot
    again = cli("scrub", "--discs", "0", "--json")
    assert again.code == 0 and all(x["result"] == "ok" for x in again.json()["scrubbed"])
    w = cli("whereis", "photos/p0.jpg", "--json").json()["paths"][0]
    assert all(c["last_scrub"] == "ok" for d in w["discs"] for c in d["copies"])


def test_a_decaying_disc_with_ecc_is_corrected(
    cli, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ODARCHIVE_ARCHIVE_ECC", raising=False)  # on, as by default
    src = tmp_path / "s"
    src.mkdir()
    (src / "a.bin").write_bytes(os.urandom(400_000))
    (home / "odarchive.toml").write_text(
        "[robot.simulator]\nspeed = 1000.0\nslots = 6\nblanks = 4\nidle_exit_s = 60.0\n"
    )
    assert cli("create_db", str(src)).code == 0
    assert cli("plan_iso", "2M").code == 0
    assert cli("robot", "burn", "--segments", "all").code == 0
    st = Mechanism(home / "robot", Mechanism.stored_config(home / "robot")).snapshot()
    medium = home / "robot" / "media" / f"{st['slots'][_slot(home, 0) - 1]}.img"
    with open(medium, "r+b") as f:  # a scratch across 20 sectors of the data
        f.seek(300 * 2048)
        f.write(bytes(20 * 2048))
    r = cli("scrub", "--json")
    assert r.code == 1
    [res] = r.json()["scrubbed"]
    assert res["result"] == "corrected" and res["corrected_sectors"] >= 20, res


def test_a_background_scrub_picks_the_oldest_copy_and_gives_way(cli, home: Path, burned: Path) -> None:
    from odarchive.app.leased_read import leased_disc
    from odarchive.app.scrub import next_due, scrub_copy, scrub_interval_s
    from odarchive.app.service.client import service_client
    from odarchive.catalogue import Catalogue
    from odarchive.errors import InputError
    from odarchive.health import burned_copies, history
    from odarchive.home import Home

    assert scrub_interval_s("30d") == 30 * 86400 and scrub_interval_s("off") is None
    with pytest.raises(InputError):
        scrub_interval_s("often")
    with Catalogue.open(home / "catalogue.sqlite") as cat:
        assert next_due(cat, 0) is None  # everything was checked after 1970
        first = next_due(cat, time.time_ns())
        every = burned_copies(cat, [0, 1, 2, 3])
        assert first is not None and first.last_checked_ns == min(c.last_checked_ns for c in every) and len(every) > 1
        client = service_client(Home.resolve(str(home)))  # the burns started the archive service
        assert client is not None
        with client, leased_disc(client, first.disc, "scrub", copy=first.copy) as dev:
            asked: list[int] = []
            gave_way = scrub_copy(cat, dev, first, home, stop=lambda: asked.append(1) or True)
            assert gave_way is None and asked and history(cat) == []  # a read waits: nothing recorded
            done = scrub_copy(cat, dev, first, home, stop=lambda: False)
            assert done is not None and done["result"] == "ok" and len(history(cat)) == 1
        nxt = next_due(cat, time.time_ns())
        assert nxt is not None and (nxt.disc, nxt.copy) != (first.disc, first.copy)  # that one is now the newest
