"""`odarchive serve`: the socket, the token, the status snapshot, TCP, stopping."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from odarchive.app.service.client import service_client
from odarchive.cli import main
from odarchive.home import Home
from tests.lib.service_home import make_home, running_service


def test_socket_and_token_are_not_world_accessible_and_status_has_its_shape(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    with running_service(home) as client:
        for name in ("service.sock", "service.token"):
            mode = stat.S_IMODE((home / name).stat().st_mode)
            assert mode & 0o077 == 0, f"{name} is mode {mode:o}"
        assert stat.S_ISSOCK((home / "service.sock").stat().st_mode)
        status = client.status()
        assert set(status) >= {"now", "service", "changer", "drives", "queue", "jobs", "mounts", "offline_discs"}
        assert status["service"]["home"] == str(home)
        assert len(status["changer"]["slots"]) == 600
        assert status["changer"]["slot_counts"] == {"blank": 600}
        assert [d["drive"] for d in status["drives"]] == [0, 1]
        assert all(d["lease"] is None and d["state"] == "idle" for d in status["drives"])


def test_state_changing_requests_need_the_token(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    with running_service(home) as client:
        listen = client.status()["service"]["listen"]
        anonymous = httpx.Client(transport=httpx.HTTPTransport(uds=str(home / "service.sock")), base_url="http://x")
        assert anonymous.get("/api/status").status_code == 200  # reading needs no token
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
            r = anonymous.post("/api/stop", headers=headers)
            assert r.status_code == 401 and "token" in r.json()["error"]
            r = httpx.post(f"http://{listen}/api/stop", headers=headers)
            assert r.status_code == 401
        anonymous.close()
        assert client.status()["service"]["pid"]  # still running
        assert httpx.get(f"http://{listen}/api/status").json()["service"]["listen"] == listen


def test_second_start_reuses_the_running_service_and_stop_ends_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = make_home(tmp_path / "home")
    with running_service(home) as client:
        pid = client.status()["service"]["pid"]
        assert main(["--home", str(home), "serve", "--json"]) == 0
        assert f'"pid": {pid}' in capsys.readouterr().out
        assert main(["--home", str(home), "serve", "--stop"]) == 0
        assert not (home / "service.sock").exists()
        assert service_client(Home.resolve(home)) is None
    assert main(["--home", str(home), "serve", "--stop"]) == 0
    assert "no archive service" in capsys.readouterr().err


@pytest.mark.slow
def test_listen_off_and_bad_listen(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home", '[service]\nlisten = ""\n')
    assert main(["--home", str(home), "serve", "--listen", "localhost"]) == 2
    with running_service(make_home(tmp_path / "home2", '[service]\nlisten = ""\n')) as client:
        assert client.status()["service"]["listen"] != ""  # the flag (port 0) wins over the file
    assert main(["--home", str(home), "serve"]) == 0
    try:
        client = service_client(Home.resolve(home))
        assert client is not None and client.status()["service"]["listen"] == ""
        client.close()
    finally:
        main(["--home", str(home), "serve", "--stop", "--force"])
        main(["--home", str(home), "robot", "simulate", "--stop"])
