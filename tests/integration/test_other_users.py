"""Commands as another, unprivileged user (`setpriv` to nobody in a subprocess): root reads
everything, so what a user who may only read the home or the source meets is tried as one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from odarchive.cli import main
from tests.lib.trees import write
from tests.lib.users import odarchive_as_nobody

REPO = Path(__file__).resolve().parents[2]


def test_get_info_as_another_user_on_a_root_owned_home():
    base = Path(tempfile.mkdtemp(prefix="odarchive-ro-"))  # not under pytest's root-only directory
    try:
        os.chmod(base, 0o755)
        src, home = base / "src", base / "home"
        write(src / "f.txt", b"readable")
        assert main(["--home", str(home), "create_db", str(src)]) == 0
        os.chmod(home, 0o755)
        out = base / "out"
        out.mkdir(mode=0o777)
        os.chmod(out, 0o777)
        for command in (["get_info", "--json"], ["num_isos"], ["export_json", str(out / "c.json")]):
            proc = odarchive_as_nobody("--home", str(home), *command, timeout_s=60)
            assert proc.returncode == 0, (command, proc.stderr)
        assert not list(home.glob("catalogue.sqlite-journal"))
    finally:
        shutil.rmtree(base)


def test_unreadable_directory_as_unprivileged_user(tmp_path):
    """Root reads everything, so this one runs the scan as `nobody` in a subprocess."""
    base = Path("/tmp") / f"odarchive-nobody-{os.getpid()}"
    base.mkdir(mode=0o755)
    try:
        src = base / "src"
        write(src / "open" / "f.txt", b"readable")
        write(src / "closed" / "g.txt", b"hidden")
        write(src / "locked.txt", b"locked")
        os.chmod(src / "locked.txt", 0)
        os.chmod(src / "closed", 0)
        home = base / "home"
        home.mkdir()
        for p in (base, src, src / "open", home):
            os.chown(p, 65534, 65534)
        env = dict(os.environ, PYTHONPATH=str(REPO))
        cmd = [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-m",
            "odarchive",
            "--home",
            str(home),
            "create_db",
            str(src),
            "--json",
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, cwd=str(base))
        assert proc.returncode == 0, proc.stderr
        out = subprocess.run(
            [*cmd[:5], "-m", "odarchive", "--home", str(home), "get_info", "--json", "--skipped"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            cwd=str(base),
        )
        info = json.loads(out.stdout)
        reasons = {e["path"]: e["reason"] for e in info["skipped_entries"]}
        assert reasons["src/locked.txt"].startswith("cannot open: Permission denied")
        assert reasons["src/closed"].startswith("cannot list directory: Permission denied")
        assert info["files"] == 1
    finally:
        os.chmod(base / "src" / "closed", 0o755)
        shutil.rmtree(base)
