"""Rebuild keeps every name: a content's disc names it under every name (trees and
odarchive.names, planned exactly), and says truthfully when names added after planning did
not fit its reserve."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from odarchive.cli import main
from tests.lib.trees import write


def run(home: Path, *argv: str) -> int:
    return main(["--home", str(home), *argv])


def disc_catalogue(image: Path) -> dict:
    out = subprocess.run(["7zz", "e", "-so", "-tudf", str(image), "catalogue.json"], capture_output=True, check=True)
    return json.loads(out.stdout)


def restored_files(home: Path, images: Path, target: Path) -> set[str]:
    run(home, "restore", "--to", str(target), "--images", str(images))
    return {os.path.relpath(os.path.join(d, f), target) for d, _, fs in os.walk(target) for f in fs}


def test_151_copies_of_one_content_all_come_back_from_the_discs_alone(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write(src / "orig", b"the same bytes\n")
    for i in range(1, 151):
        write(src / f"copy{i}", b"the same bytes\n")
    home, new = tmp_path / "home", tmp_path / "new"
    assert run(home, "create_db", str(src)) == 0
    assert run(home, "plan_iso", "cd") == 0
    assert run(home, "create_iso", "all") == 0
    (image,) = sorted((home / "isos").glob("*.iso"))
    head = disc_catalogue(image)["odarchive"]
    assert len(head["names"]) == 150 and head["other_filenames_complete"] is True
    assert run(new, "rebuild", str(image)) == 0
    assert len(restored_files(new, home / "isos", tmp_path / "out")) == 151


@pytest.mark.slow
def test_thousands_of_names_fill_the_disc_the_planner_sized_for_them(tmp_path: Path) -> None:
    """1500 empty files (one content) on a 1500 kB disc whose reserve alone (64 KiB) could not
    hold their names: the planner counts them, the image stays within the medium."""
    src = tmp_path / "src"
    for i in range(1500):
        write(src / "dir" / f"an-empty-file-with-a-long-name-{i:05d}", b"")
    home, new = tmp_path / "home", tmp_path / "new"
    assert run(home, "create_db", str(src)) == 0
    assert run(home, "plan_iso", "1500k") == 0
    assert run(home, "create_iso", "all") == 0
    images = sorted((home / "isos").glob("*.iso"))
    assert all(i.stat().st_size <= 1_500_000 for i in images)
    head = disc_catalogue(images[0])["odarchive"]
    assert head["other_filenames_complete"] is True and len(json.dumps(head["names"])) > 64 * 1024
    assert run(new, "rebuild", *map(str, images)) == 0
    assert len(restored_files(new, home / "isos", tmp_path / "out")) == 1500


def test_names_added_after_planning_that_do_not_fit_are_said_missing(tmp_path: Path, capsys) -> None:
    src = tmp_path / "src"
    write(src / "a", b"shared")
    write(src / "b", b"shared")
    home, new = tmp_path / "home", tmp_path / "new"
    assert run(home, "create_db", str(src)) == 0
    assert run(home, "plan_iso", "1500k") == 0
    for i in range(2000):  # a rescan after planning finds many more copies of the planned content
        write(src / f"late-copy-with-a-long-name-{i:05d}", b"shared")
    assert run(home, "create_db", str(src)) == 0
    assert run(home, "create_iso", "all") == 0
    (image,) = sorted((home / "isos").glob("*.iso"))
    assert image.stat().st_size <= 1_500_000
    assert disc_catalogue(image)["odarchive"]["other_filenames_complete"] is False
    capsys.readouterr()
    assert run(new, "rebuild", str(image)) == 0
    assert "disc 0: its catalogue could not hold every name" in capsys.readouterr().out
