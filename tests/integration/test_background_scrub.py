"""The archive service's background scrub (`[service] scrub`) on the simulated robot: an idle
service scrubs the discs that are due and records their health, one log line each; a read
asked for while the scrub holds the only drive gets it within one block read and one disc
swap, and the scrub takes the disc up again later (and gives way to a robot command); a disc made unreadable is flagged; "off"
never scrubs; a bad setting is a clear error."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from odarchive.app.scrub import READ_BLOCK
from odarchive.app.service.client import service_client
from odarchive.home import Home
from robot_drivers.simulator.config import SimConfig
from tests.lib.waiting import wait_until

pytestmark = [pytest.mark.usefixtures("simulator_stopped"), pytest.mark.slow]

SPEED = 1000.0
SPARE = 800_000  # room on each disc beside its one file (file system, README, catalogue)


def _archive(cli, home: Path, tmp_path: Path, scrub: str, sizes: list[int], extra: str = "") -> None:
    """One disc per size (bytes of random data), burned; the service runs with `scrub`."""
    src = tmp_path / "src"
    src.mkdir()
    for n, size in enumerate(sizes):
        (src / f"f{n}.bin").write_bytes(os.urandom(size))
    (home / "odarchive.toml").write_text(
        f"[robot.simulator]\nspeed = {SPEED}\nslots = 12\nblanks = 8\nidle_exit_s = 120.0\n{extra}"
        f'[service]\nscrub = "{scrub}"\n'
    )
    assert cli("create_db", str(src)).code == 0
    assert cli("plan_iso", str(max(sizes) + SPARE)).code == 0
    r = cli("robot", "burn", "--segments", "all", "--json")
    assert r.code == 0, r.err
    assert len(r.json()["burned"]) == len(sizes)  # one disc per file


def _status(home: Path) -> dict[str, Any]:
    client = service_client(Home(home))
    assert client is not None, "the service does not answer"
    with client:
        return client.status()


def _history(cli) -> list[dict[str, Any]]:
    r = cli("scrub", "--history", "--json")
    assert r.code in (0, 1), r.err
    return r.json()["history"]


def _log_events(home: Path, event: str) -> list[str]:
    """The service's log lines of `event` ("scrub.done"; "scrub": every scrub event)."""
    text = (home / "logs" / "service.log").read_text(errors="replace")
    return [line for line in text.splitlines() if f"event={event}" in line]


def test_an_idle_service_scrubs_the_due_discs_and_flags_an_unreadable_one(cli, home: Path, tmp_path: Path) -> None:
    _archive(cli, home, tmp_path, "1s", [300_000, 300_000, 300_000])
    discs = {0, 1, 2}
    checked = wait_until(
        lambda: {h["disc"] for h in _history(cli) if h["result"] == "ok"} >= discs and _history(cli),
        "every disc scrubbed in the background",
        timeout_s=60,
    )
    assert all(h["read_bytes_per_s"] and h["unreadable_sectors"] == 0 for h in checked)
    wait_until(  # the record is written before the log line and the count (a moment later)
        lambda: len(_log_events(home, "scrub.done")) >= 3 and _status(home)["scrub"]["scrubbed"] >= 3,
        "the log line and the count of each scrub",
    )
    done = _log_events(home, "scrub.done")
    assert {int(re.search(r"disc=(\d+)", line).group(1)) for line in done} >= discs  # type: ignore[union-attr]
    assert len(done) >= len({(h["disc"], h["copy"]) for h in checked})  # one line per disc scrubbed
    st = _status(home)
    assert st["scrub"]["every"] == "1s" and st["scrub"]["scrubbed"] >= 3 and st["scrub"]["last"]["result"] == "ok"
    text = cli("status").out
    assert "background scrub: every 1s" in text and "disc(s) scrubbed" in text

    def damage_disc_1() -> bool:  # once it is back in its slot (the scrub keeps loading discs)
        slots = [s["slot"] for s in _status(home)["changer"]["slots"] if s["disc"] == 1 and s["state"] == "recorded"]
        return bool(slots) and cli("robot", "simulate", "--fault", f"unreadable {slots[0]}").code == 0

    wait_until(damage_disc_1, "disc 1 in its slot, made unreadable", timeout_s=30)
    bad = wait_until(
        lambda: [h for h in _history(cli) if h["disc"] == 1 and h["result"] == "unreadable"],
        "the background scrub to flag disc 1",
        timeout_s=60,
    )
    assert bad[0]["unreadable_sectors"] > 0
    wait_until(lambda: _status(home)["scrub"]["attention"], "disc 1 among the copies needing attention")
    assert any("disc=1 " in line and "result=unreadable" in line for line in _log_events(home, "scrub.done"))
    assert [(h["disc"], h["result"]) for h in _status(home)["scrub"]["attention"]] == [(1, "unreadable")]
    assert "needs attention: disc 1 (set A) unreadable (`odarchive robot burn --replace 1`)" in cli("status").out


def test_a_read_takes_the_only_drive_from_the_scrub_within_one_block_and_one_swap(
    cli, home: Path, tmp_path: Path
) -> None:
    rate = 16_000.0  # x SPEED: 16 MB/s, one 8 MiB block in ~0.5 s; disc 0 (40 MB) takes ~2.6 s to read
    _archive(cli, home, tmp_path, "1s", [40_000_000, 300_000], extra=f"drives = 1\nread_bytes_per_s = {rate}\n")
    cfg = SimConfig()
    block_s = READ_BLOCK / (rate * SPEED)
    swap_s = (cfg.unload_s + cfg.load_s + cfg.spinup_s) / SPEED
    scrubbing = wait_until(
        lambda: (sc := _status(home)["scrub"])["current"] and sc["current"]["disc"] == 0 and sc,
        "the background scrub to read disc 0",
        timeout_s=60,
    )
    assert _status(home)["drives"][0]["state"] == "scrubbing"
    client = service_client(Home(home))
    assert client is not None
    with client:
        t0 = time.monotonic()
        lease = client.lease("read", 1, "test reader", timeout_s=30)
        waited = time.monotonic() - t0
        assert _status(home)["scrub"]["current"] is None
        client.release(int(lease["id"]))
    bound = block_s + swap_s + 1.0  # the block being read, one swap, and the service's own work under load
    assert waited < bound, f"the read waited {waited:.2f} s for the drive (bound {bound:.2f} s)"
    assert not [h for h in _history(cli) if h["disc"] == 0 and h["at_ns"] > scrubbing["current"]["since"] * 1e9]
    assert any("disc=0 " in line for line in _log_events(home, "scrub.gave_way"))
    wait_until(  # it reads disc 0 again from the start; a person unloads the drive meanwhile
        lambda: (c := _status(home)["scrub"]["current"]) and c["disc"] == 0, "the scrub of disc 0 again", timeout_s=60
    )
    unload = cli("robot", "unload", "--drive", "0")
    assert unload.code == 0, unload.err  # the scrub gave the drive up to the command
    assert not [h for h in _history(cli) if h["disc"] == 0]  # and recorded nothing for the cut pass
    again = wait_until(  # the service is idle again: disc 0 is scrubbed from the start
        lambda: [h for h in _history(cli) if h["disc"] == 0 and h["result"] == "ok"],
        "disc 0 scrubbed after the read",
        timeout_s=60,
    )
    assert again[0]["read_bytes_per_s"] < rate * SPEED * 1.2  # paced like a real drive's reads


def test_off_never_scrubs(cli, home: Path, tmp_path: Path) -> None:
    _archive(cli, home, tmp_path, "off", [300_000, 300_000])
    st = _status(home)
    assert st["scrub"] == {"every": "off"} and "background scrub: off" in cli("status").out
    burned = time.time()
    wait_until(lambda: _status(home)["now"] > burned + 3.0, "the service's clock 3 s past the burns")
    assert _history(cli) == [] and not _log_events(home, "scrub")  # "1s" would have scrubbed both by now


def test_a_bad_setting_is_a_clear_error(cli, home: Path) -> None:
    (home / "odarchive.toml").write_text('[service]\nscrub = "often"\n')
    r = cli("serve", "--listen", "127.0.0.1:0")
    assert r.code != 0
    assert "[service] scrub = 'often'" in r.err and 'scrub = "30d"' in r.err
