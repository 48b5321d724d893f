"""The size model against pycdlib: random trees, deep trees, huge files, big directories."""

from __future__ import annotations

import pytest

from odarchive.iso import sizing
from odarchive.iso.layout import DiscLayout
from tests.lib.iso_helpers import pycdlib_blocks, random_layout


@pytest.mark.parametrize("seed", range(25))
def test_model_equals_pycdlib_on_random_trees(seed: int) -> None:
    layout = random_layout(seed)
    assert sizing.image_blocks(layout) == pycdlib_blocks(layout)[0]


def test_model_equals_pycdlib_deep_tree_huge_files_and_a_big_directory() -> None:
    layout = DiscLayout()
    deep = [b"root"] + [b"level%02d" % i for i in range(20)]
    for i in range(40):
        d = b"/".join(deep[: 1 + i % 21])
        layout.add(d + b"/f%d" % i, [0, 5 * 2**30, 9 * 2**30 + 1, 3000][i % 4], None)
    for i in range(3000):
        layout.add(b"root/big/file_%06d.txt" % i, 10, None)
    layout.set_manifest_sizes({"README.md": 100, "catalogue.json": 100, "SHA256SUMS": 100})
    blocks, _iso = pycdlib_blocks(layout)
    assert sizing.image_blocks(layout) == blocks
    assert layout.deep, "directories below ISO 9660's 7 levels are relocated"


def test_removing_a_trial_file_restores_the_size() -> None:
    layout = random_layout(3)
    before = sizing.image_blocks(layout)
    node = layout.add(b"root/new/dir/file", 5000, None)
    assert sizing.image_blocks(layout) > before
    layout.remove(b"root/new/dir/file", node)
    assert sizing.image_blocks(layout) == before


def test_the_normpath_shortcut_agrees_with_pycdlib_and_is_removed_after() -> None:
    import pycdlib.utils

    from tests.lib.pycdlib_writer import _fast_normpath

    original = pycdlib.utils.normpath
    paths = ["/DATA/a/b.txt", "/DATA/./x", "/DATA//y", "/DATA/a/../b", "/DATA/.hidden", "/DATA/é中/z", "/DATA/a/"]
    with _fast_normpath():
        assert pycdlib.utils.normpath is not original
        assert [pycdlib.utils.normpath(p) for p in paths] == [original(p) for p in paths]
    assert pycdlib.utils.normpath is original
