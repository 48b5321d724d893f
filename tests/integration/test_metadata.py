"""What an archivist expects back (issue 11): owners and groups, user.* xattrs, POSIX ACLs,
hard links, sparse files, through scan, disc images, restore and the mount's catalogue view;
and the setuid rule when owners cannot be restored."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from odarchive.app.mount_adapter import CatalogueAdapter
from odarchive.cli import main
from tests.lib.trees import write
from tests.lib.users import odarchive_as_nobody

NOBODY, NOGROUP = 65534, 65534
SPARSE_SIZE = 8 << 20


def make_tree(src: Path) -> None:
    write(src / "docs" / "owned.txt", b"nobody's file\n")
    os.chown(src / "docs" / "owned.txt", NOBODY, NOGROUP)
    write(src / "docs" / "tagged.txt", b"with attributes\n")
    os.setxattr(src / "docs" / "tagged.txt", "user.comment", b"keep me")
    os.setxattr(src / "docs" / "tagged.txt", "user.empty", b"")
    write(src / "docs" / "acl.txt", b"shared with nobody\n")
    subprocess.run(["setfacl", "-m", "u:nobody:rw,g:nogroup:r", str(src / "docs" / "acl.txt")], check=True)
    subprocess.run(["setfacl", "-d", "-m", "u:nobody:rwx", str(src / "docs")], check=True)  # a default ACL
    write(src / "links" / "one", b"one inode, two names\n")
    os.link(src / "links" / "one", src / "links" / "two")
    write(src / "suid", b"#!/bin/sh\n")
    os.chown(src / "suid", NOBODY, NOGROUP)
    os.chmod(src / "suid", 0o4755)
    with open(src / "sparse.img", "wb") as f:  # data at both ends, a hole between
        f.write(b"head" * 1024)
        f.seek(SPARSE_SIZE - 4096)
        f.write(b"tail" * 1024)
    os.symlink("docs/owned.txt", src / "link")
    os.lchown(src / "link", NOBODY, NOGROUP)


def run(home: Path, *argv: str) -> int:
    return main(["--home", str(home), *argv])


@pytest.fixture(scope="module")
def archive():  # -> Iterator[tuple[Path, Path]]
    """The tree scanned and written to images, in a directory other users may read (the
    restore-as-nobody test reads it; pytest's own temporary directories are root's only)."""
    base = Path(tempfile.mkdtemp(prefix="odarchive-meta-"))
    try:
        os.chmod(base, 0o755)
        src = base / "src"
        make_tree(src)
        home = base / "home"
        assert run(home, "create_db", str(src)) == 0
        assert run(home, "plan_iso", "cd") == 0
        assert run(home, "create_iso", "all") == 0
        yield src, home
    finally:
        shutil.rmtree(base)


def rsync_differences(src: Path, dest: Path) -> list[str]:
    """What `rsync -aAXH --checksum -n` would change to make `dest` like `src` (nothing: equal)."""
    proc = subprocess.run(
        ["rsync", "-aAXH", "--checksum", "-n", "-i", f"{src}/", f"{dest}/"], capture_output=True, text=True, check=True
    )
    return [line for line in proc.stdout.splitlines() if line.strip()]


def test_restore_as_root_brings_back_owners_xattrs_acls_links_and_holes(archive, tmp_path):
    src, home = archive
    out = tmp_path / "out"
    assert run(home, "restore", "--to", str(out)) == 0
    back = out / "src"
    assert rsync_differences(src, back) == []
    one, two = os.stat(back / "links" / "one"), os.stat(back / "links" / "two")
    assert one.st_ino == two.st_ino and one.st_nlink == 2
    sparse = os.stat(back / "sparse.img")
    assert sparse.st_size == SPARSE_SIZE and sparse.st_blocks * 512 < 1 << 20  # holes kept
    assert stat.S_IMODE(os.stat(back / "suid").st_mode) == 0o4755  # the owner came back too
    assert os.lstat(back / "link").st_uid == NOBODY


def test_catalogue_view_shows_owners_xattrs_and_one_inode_per_hard_link(archive):
    src, home = archive
    view = CatalogueAdapter(home / "catalogue.sqlite")
    try:
        (root,) = view.latest_roots()
        root_entry = view.lookup(0, b"src", root.snapshot_id)
        assert root_entry is not None
        links = view.child_dir(root.root_dir, b"links")
        docs = view.child_dir(root.root_dir, b"docs")
        one, two = (view.lookup(links, n, root.snapshot_id) for n in (b"one", b"two"))
        assert one.nlink == two.nlink == 2 and one.inode == two.inode is not None and one.id != two.id
        owned = view.lookup(docs, b"owned.txt", root.snapshot_id)
        assert (owned.uid, owned.gid) == (NOBODY, NOGROUP)
        tagged = view.lookup(docs, b"tagged.txt", root.snapshot_id)
        assert view.xattrs(tagged.xattrs) == {"user.comment": b"keep me", "user.empty": b""}
        acl = view.lookup(docs, b"acl.txt", root.snapshot_id)
        assert view.xattrs(acl.xattrs)["system.posix_acl_access"] == os.getxattr(
            src / "docs" / "acl.txt", "system.posix_acl_access"
        )
        listed = {e.name: e for e in view.list_entries(links, root.snapshot_id)}
        assert listed[b"one"].inode == listed[b"two"].inode == one.inode
    finally:
        view.close()


def test_restore_as_another_user_says_what_it_could_not_set_and_drops_setuid(archive):
    _src, home = archive
    base = Path(tempfile.mkdtemp(prefix="odarchive-meta-"))
    try:
        os.chmod(base, 0o777)
        out = base / "out"
        proc = odarchive_as_nobody("--home", str(home), "restore", "--to", str(out), "--json")
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)
        assert any(line.startswith("owner and group: not set") and "not root" in line for line in report["not_set"])
        assert any(line.startswith("setuid/setgid bits") for line in report["not_set"])
        assert stat.S_IMODE(os.stat(out / "src" / "suid").st_mode) == 0o755  # as tar does
        assert (out / "src" / "docs" / "owned.txt").read_bytes() == b"nobody's file\n"
        assert os.getxattr(out / "src" / "docs" / "tagged.txt", "user.comment") == b"keep me"
    finally:
        shutil.rmtree(base)


def test_discs_carry_the_attributes_and_a_rebuilt_catalogue_restores_them(archive, tmp_path):
    from odarchive.iso.reader import DiscImage

    src, home = archive
    images = sorted((home / "isos").glob("*.iso"))
    with DiscImage(images[0]) as image:
        head = image.catalogue()["odarchive"]
    assert head["attributes_complete"] is True
    lines = {line[0]: line for line in head["attributes"]}
    assert lines["src/docs/owned.txt"][2:6] == [NOBODY, NOGROUP, "nobody", "nogroup"]
    assert lines["src/links/one"][7] == lines["src/links/two"][7] is not None
    assert "user.comment" in lines["src/docs/tagged.txt"][6]
    new_home = tmp_path / "rebuilt"
    assert run(new_home, "rebuild", *map(str, images)) == 0
    out = tmp_path / "out"
    assert run(new_home, "restore", "--to", str(out), "--images", str(home / "isos")) == 0
    assert rsync_differences(src, out / "src") == []


def test_the_mount_shows_owners_xattrs_acls_and_hard_links_so_rsync_copies_them(archive, tmp_path):
    """Through a real kernel mount: `rsync -aAXH --checksum -n` from the source finds nothing
    to change on the mount, and `rsync -aAXH` from the mount to a directory reproduces the
    source (owners, modes, mtimes, user.* xattrs, ACLs, hard links)."""
    from tests.lib.mount_process import Mounted

    src, home = archive
    with Mounted(home, tmp_path / "mnt", "--images", str(home / "isos"), "--cache-dir", str(tmp_path / "cache")) as m:
        shown = m.mountpoint / "src"
        assert rsync_differences(src, shown) == []
        one, two = os.lstat(shown / "links" / "one"), os.lstat(shown / "links" / "two")
        assert one.st_ino == two.st_ino and one.st_nlink == two.st_nlink == 2
        owned = os.lstat(shown / "docs" / "owned.txt")
        assert (owned.st_uid, owned.st_gid) == (NOBODY, NOGROUP)
        assert os.lstat(shown / "link").st_uid == NOBODY
        assert os.listxattr(shown / "docs" / "tagged.txt") == os.listxattr(src / "docs" / "tagged.txt")
        getfacl = subprocess.run(
            ["getfacl", "-cp", str(shown / "docs" / "acl.txt")], capture_output=True, text=True, check=True
        )
        assert "user:nobody:rw-" in getfacl.stdout.splitlines()
        copy = tmp_path / "copy"
        subprocess.run(["rsync", "-aAXH", f"{shown}/", f"{copy}/"], check=True, capture_output=True)
    assert rsync_differences(src, copy) == []
    assert os.stat(copy / "links" / "one").st_ino == os.stat(copy / "links" / "two").st_ino
