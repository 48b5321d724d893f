"""Property: import_json and rebuild, fed random mutations of valid catalogues (types, ranges,
nesting, names), end with exit 0 or exit 3, never a traceback; on exit 3 the home is unchanged."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odarchive.cli import main
from odarchive.errors import EXIT_INPUT
from tests.lib.crafted import disc_doc, disc_image, home_state
from tests.lib.trees import write

DEEP = "\ue000deep"  # replaced by 5000 levels of nesting once the document is text
HOSTILE_TEXT = st.lists(
    st.sampled_from(["a", "/", ".", "..", "\x00", "\x1b", "\n", "\udcff", "\ufdd0", "é", "\\"]), max_size=8
).map("".join)
VALUES = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([2**63 - 1, 2**63, -(2**63) - 1, 0o177777, 0o200000]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    HOSTILE_TEXT,
    st.just(DEEP),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(HOSTILE_TEXT, st.none(), max_size=2),
)
SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True, database=None
)


def seed_doc() -> dict[str, Any]:
    sha = [hashlib.sha256(bytes([i])).hexdigest() for i in range(3)]
    return {
        "version": 1,
        "files": {
            s: {"size": i, "mtime": 1.5 + i, "filenames": {f"r/d/f{i}": None, f"r/e{i}/g": None}}
            for i, s in enumerate(sha)
        },
    }


def paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += paths(v, (*prefix, i))
    return out


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> str:
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths(doc)))
        if not where:
            continue
        parent = doc
        for k in where[:-1]:
            parent = parent[k]
        key = where[-1]
        op = draw(st.sampled_from(["replace", "delete", "rename"] if isinstance(parent, dict) else ["replace"]))
        if op == "replace":
            parent[key] = draw(VALUES)
        elif op == "delete":
            del parent[key]
        else:
            parent[draw(HOSTILE_TEXT)] = parent.pop(key)
    return json.dumps(doc, allow_nan=True).replace(json.dumps(DEEP), "[" * 5000 + "]" * 5000)


@pytest.fixture(scope="module")
def scanned_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("property")
    write(base / "src" / "keep.txt", b"keep")
    assert main(["--home", str(base / "home"), "create_db", str(base / "src")]) == 0
    return base / "home"


@SETTINGS
@given(text=mutated(seed_doc()))
def test_import_json_of_any_mutation_is_imported_or_refused_cleanly(scanned_home: Path, text: str) -> None:
    f = scanned_home.parent / "mutated.json"
    f.write_text(text, encoding="utf-8", errors="surrogatepass")
    before = home_state(scanned_home)
    code = main(["--home", str(scanned_home), "import_json", str(f)])
    assert code in (0, EXIT_INPUT)
    if code == EXIT_INPUT:
        assert home_state(scanned_home) == before


_homes = itertools.count()


@SETTINGS
@given(text=mutated(disc_doc()))
def test_rebuild_of_any_mutated_disc_is_rebuilt_or_refused_cleanly(scanned_home: Path, text: str) -> None:
    work = scanned_home.parent
    image = disc_image(work / "mutated_0000.iso", text.encode("utf-8", "surrogatepass"))
    home = work / f"rebuilt{next(_homes)}"
    code = main(["--home", str(home), "rebuild", str(image)])
    assert code in (0, EXIT_INPUT)
    if code == EXIT_INPUT:
        assert not home.exists()
