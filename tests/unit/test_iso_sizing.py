"""The size model against pycdlib: random trees, deep trees, huge files, big directories."""

from __future__ import annotations

import random

import pytest

from odarchive.iso import sizing
from odarchive.iso.layout import DiscLayout
from tests.lib.iso_helpers import pycdlib_blocks


def _name(rng: random.Random) -> bytes:
    alphabet = "abcXYZ_-. 09éü中\U0001F600;*?:\\"
    text = "".join(rng.choice(alphabet) for _ in range(rng.choice([1, 3, 8, 20, 40, 70, 130])))
    raw = text.encode()[: rng.choice([255, 60, 20])]
    raw = raw.decode("utf-8", "ignore").encode() or b"x"
    if rng.random() < 0.1:
        raw += b"\xe9\xff"
    raw = raw.replace(b"/", b"_")
    return raw + b"x" if raw in (b".", b"..") else raw


def _random_layout(seed: int) -> DiscLayout:
    rng = random.Random(seed)
    layout = DiscLayout()
    dirs = [b"root"]
    for i in range(rng.randint(1, 300)):
        if rng.random() < 0.2:
            dirs.append(rng.choice(dirs) + b"/" + _name(rng))
        layout.add(rng.choice(dirs) + b"/" + _name(rng) + str(i).encode(), rng.choice([0, 1, 2047, 2048, 2049, 100_000]), None)
    layout.set_manifest_sizes({"README.md": rng.randint(1, 9000), "catalogue.json": rng.randint(1, 90_000),
                               "SHA256SUMS": rng.randint(1, 50_000)})
    return layout


@pytest.mark.parametrize("seed", range(25))
def test_model_equals_pycdlib_on_random_trees(seed: int) -> None:
    layout = _random_layout(seed)
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
    blocks, iso = pycdlib_blocks(layout)
    assert sizing.image_blocks(layout) == blocks
    assert layout.deep, "directories below ISO 9660's 7 levels are relocated"


def test_removing_a_trial_file_restores_the_size() -> None:
    layout = _random_layout(3)
    before = sizing.image_blocks(layout)
    node = layout.add(b"root/new/dir/file", 5000, None)
    assert sizing.image_blocks(layout) > before
    layout.remove(b"root/new/dir/file", node)
    assert sizing.image_blocks(layout) == before


def test_the_normpath_shortcut_agrees_with_pycdlib_and_is_removed_after() -> None:
    import pycdlib.utils

    from odarchive.iso.populate import _fast_normpath

    original = pycdlib.utils.normpath
    paths = ["/DATA/a/b.txt", "/DATA/./x", "/DATA//y", "/DATA/a/../b", "/DATA/.hidden", "/DATA/é中/z", "/DATA/a/"]
    with _fast_normpath():
        assert pycdlib.utils.normpath is not original
        assert [pycdlib.utils.normpath(p) for p in paths] == [original(p) for p in paths]
    assert pycdlib.utils.normpath is original
