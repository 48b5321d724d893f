"""Names that try to rewrite the terminal are shown escaped by every command, exact in --json;
log lines are escaped too; a closed stdout (`| head`) ends quietly; errors are bounded."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from odarchive.cli import main
from odarchive.errors import EXIT_FAILED, EXIT_PIPE
from odarchive.shown import EscapingFormatter, printable, quote
from robot_drivers.simulator import control
from tests.lib.trees import write

FORGED = "fifo\x1b[1A\x1b[2K\r  fake: everything fine\n  src ok"
SHOWN = "fifo\\x1b[1A\\x1b[2K\\r  fake: everything fine\\n  src ok"
BAD_UTF8 = b"title\xff\x1b]0;owned\x07"


def assert_clean(text: str) -> None:
    """Nothing a terminal would act on: no escape, carriage return, bell or stray newline."""
    assert not any(c in text for c in "\x1b\r\x07"), text
    assert "fake: everything fine" not in text.replace(SHOWN, "")  # only ever inside the escaped name


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    os.mkfifo(src / FORGED)
    write(src / "d" / (FORGED + ".txt"), b"forged\n")
    write(Path(os.fsdecode(os.fsencode(src / "d") + b"/" + BAD_UTF8)), b"x")
    return src


def test_every_command_shows_hostile_names_escaped(cli, home: Path, hostile: Path, tmp_path: Path) -> None:
    r = cli("create_db", str(hostile))
    assert r.code == 0
    assert_clean(r.out + r.err) and SHOWN in r.err  # the skipped FIFO, reported while scanning
    r = cli("get_info", "--skipped")
    assert_clean(r.out) and f"src/{SHOWN}: FIFO" in r.out
    assert cli("plan_iso", "1500k").code == 0
    assert cli("create_iso", "all").code == 0
    image = next((home / "isos").glob("*.iso"))
    r = cli("verify", str(image))
    assert r.code == 0 and "OK (4 files checked)" in r.out  # a carriage return in a name is no line end
    data = image.read_bytes()
    at = data.index(b"forged\n")
    image.write_bytes(data[:at] + b"F" + data[at + 1 :])
    r = cli("verify", str(image))
    assert r.code == EXIT_FAILED
    assert_clean(r.out + r.err) and f"DATA/src/d/{SHOWN}.txt" in r.out
    r = cli("restore", "--to", str(tmp_path / "out"))
    assert r.code == EXIT_FAILED
    assert_clean(r.out + r.err) and f"not restored: src/d/{SHOWN}.txt" in r.out
    assert "src/d/title\\xff\\x1b]0;owned\\x07" not in r.out  # restored fine, so not listed
    assert (tmp_path / "out" / "src" / "d").joinpath(os.fsdecode(BAD_UTF8)).read_bytes() == b"x"


def test_json_keeps_exact_names(cli, hostile: Path) -> None:
    assert cli("create_db", str(hostile), "--json").code == 0
    entries = cli("get_info", "--skipped", "--json").json()["skipped_entries"]
    assert [e["path"] for e in entries] == [f"src/{FORGED}"]


def test_printable_is_ls_like() -> None:
    assert printable(FORGED) == SHOWN
    assert printable(BAD_UTF8) == "title\\xff\\x1b]0;owned\\x07"
    assert printable("café 日本 a\\b") == "café 日本 a\\b"  # printable text of any language unchanged
    assert printable("\u202eevil\u0085") == "\\u202eevil\\u0085"  # bidi override, C1 control
    assert quote("x" * 5000).endswith("... (4800 more characters)") and len(quote("x" * 5000)) < 250


def test_log_lines_are_escaped_whoever_logs() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(EscapingFormatter("%(name)s: %(message)s"))
    logger = logging.getLogger("fuse_mount.test_hostile")  # a package that cannot import odarchive
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("cannot read %s", FORGED)
        logger.warning("%s", "y" * 10_000)
    finally:
        logger.removeHandler(handler)
    first, second = out.getvalue().splitlines()
    assert first == f"fuse_mount.test_hostile: cannot read {SHOWN}"
    assert len(second) < 2100 and second.endswith("more characters)")


def test_error_output_is_bounded(cli, home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    name = "r/" + "\x1b" * 300_000
    bad.write_text(json.dumps({"version": 1, "files": {"0" * 64: {"filenames": {name: None}, "size": 1}}}))
    r = cli("import_json", str(bad))
    assert r.code == 3
    assert len(r.err) < 5000 and "\x1b" not in r.err and "more characters" in r.err


def test_closed_stdout_ends_quietly(cli, hostile: Path, capsys: pytest.CaptureFixture[str], home: Path) -> None:
    assert cli("create_db", str(hostile)).code == 0
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader went away, as `| head` does after its lines
    saved = sys.stdout
    sys.stdout = os.fdopen(write_end, "w")
    try:
        code = main(["--home", str(home), "get_info", "--skipped"])
    finally:
        sys.stdout.close()
        sys.stdout = saved
    assert code == EXIT_PIPE
    assert capsys.readouterr().err == ""


def test_robot_inventory_into_a_closed_pipe_ends_quietly(home: Path) -> None:
    (home / "odarchive.toml").write_text(
        "[robot.simulator]\nspeed = 1000.0\nslots = 600\nblanks = 600\nidle_exit_s = 60.0\n"
    )
    try:
        proc = subprocess.run(
            f"{Path(sys.executable).parent / 'odarchive'} --home {home} robot inventory | true; exit ${{PIPESTATUS[0]}}",
            shell=True,
            executable="/bin/bash",
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        control.stop(home / "robot")
    # `true` has gone before the inventory is printed (as `head` has once it read its lines):
    # nothing on stderr but the note that the robot's service was started for the command
    noise = [line for line in proc.stderr.splitlines() if "started the archive service" not in line]
    assert noise == [] and proc.returncode == EXIT_PIPE
