"""`odarchive mount` settings and how `odarchive status` shows a running mount."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from odarchive.app.context import Context
from odarchive.app.mount_config import mount_config
from odarchive.cli.mount_status import describe_mount
from odarchive.errors import InputError


def _ctx(home: Path) -> Context:
    return Context.create(argparse.Namespace(home=str(home), json=False))


def test_mount_settings_from_file_environment_and_flags(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (home / "odarchive.toml").write_text(
        '[mount]\ndisc_timeout_s = "15m"\nwhole_max_bytes = "8MiB"\nimages = "/srv/isos"\n'
    )
    monkeypatch.setenv("ODARCHIVE_MOUNT_GATHER_S", "0.2")
    conf = mount_config(_ctx(home), disc_timeout_s=None, images=None)
    assert (conf.disc_timeout_s, conf.whole_max_bytes, conf.images, conf.gather_s) == (900.0, 8 << 20, "/srv/isos", 0.2)
    assert mount_config(_ctx(home), disc_timeout_s="90s").disc_timeout_s == 90.0
    (home / "odarchive.toml").write_text('[mount]\ndisc_timeout_s = "soon"\n')
    with pytest.raises(InputError, match="not a duration"):
        mount_config(_ctx(home))


def test_status_describes_a_mount() -> None:
    record = {
        "job": "mount-1a2b3c4d",
        "pid": 42,
        "mountpoint": "/archive",
        "phase": "mounted",
        "cache_dir": "/fast/cache",
        "waiting_by_disc": {"12": 3, "3": 1},
        "disc_loads": 7,
        "disc_failures": 1,
        "open_files": 2,
        "source": {
            "kind": "robot",
            "drives": [
                {"drive": 0, "disc": 3, "activity": "reading disc 3", "fault": None},
                {"drive": 1, "disc": None, "activity": "idle", "fault": "E30 picker jammed"},
            ],
        },
        "cache": {
            "bytes_cached": 5_000_000_000,
            "max_bytes": 50_000_000_000,
            "free_bytes": 1_000_000_000,
            "hit_ratio": 0.875,
        },
    }
    text = describe_mount(record)
    assert "/archive mounted" in text
    assert "disc 3: 1, disc 12: 3" in text
    assert "drive 0: reading disc 3, holds disc 3" in text and "drive 1: idle, FAULT E30 picker jammed" in text
    assert "7 disc loads, 1 failures" in text
    assert "cache /fast/cache: 5 GB of 50 GB used" in text and "hit ratio 0.88" in text and "2 files open" in text
