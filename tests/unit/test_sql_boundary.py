"""The gate on the catalogue's boundary: no SQL reaches the catalogue from outside
`odarchive/catalogue/`. Everything else — the core, the wiring layer, the benchmarks and the
tests' fixtures — calls the query modules there (one per concern: `discs`, `burns`,
`copies`, `health`, `images`, `plans`, `restoring`, ...).

The scan reads the syntax tree of every Python file of the repository and fails on a call of
`.execute`, `.executemany`, `.executescript` or `.iterdump`, on `sqlite3.connect`, and on a
string that reads as an SQL statement. Exempt: the catalogue package itself, the mount's cache
(`fuse_mount/cache/`, its own database, with its own tests), and the tests whose subject is the
catalogue's schema and migrations.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCANNED = ("odarchive", "fuse_mount", "robot_drivers", "benchmarks", "tests", "scripts")
EXEMPT = (
    "odarchive/catalogue/",
    "fuse_mount/cache/",  # the cache's own index database
    "tests/unit/test_cache_",  # ... and its tests
    "tests/unit/test_catalogue_schema.py",  # the schema itself
    "tests/unit/test_catalogue_migrations.py",  # the migrations themselves (old catalogues)
    "tests/unit/test_catalogue_query_plans.py",  # the indexes the schema gives every lookup
)
DB_CALLS = {"execute", "executemany", "executescript", "iterdump"}
# an SQL statement: its verb, then what SQLite expects after it
STATEMENT = re.compile(
    r"^\s*(SELECT\s.+\sFROM\s|SELECT\s+(count|sum|max|min|coalesce)\(|INSERT\s+(OR\s+\w+\s+)?INTO\s|UPDATE\s+\w+\s+SET\s"
    r"|DELETE\s+FROM\s|CREATE\s+(TEMP\s+|UNIQUE\s+)?(TABLE|INDEX|VIEW|TRIGGER)\s|DROP\s+(TABLE|INDEX)\s|PRAGMA\s"
    r"|WITH\s+RECURSIVE\s)",
    re.DOTALL,
)


def sql_reaching_the_catalogue(source: str) -> list[tuple[int, str]]:
    """(line, what) of each database call and SQL statement in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            f = node.func
            if f.attr in DB_CALLS:
                found.append((node.lineno, f".{f.attr}()"))
            elif f.attr == "connect" and isinstance(f.value, ast.Name) and f.value.id == "sqlite3":
                found.append((node.lineno, "sqlite3.connect()"))
        elif isinstance(node, ast.ImportFrom) and node.module == "sqlite3":
            if any(a.name == "connect" for a in node.names):
                found.append((node.lineno, "from sqlite3 import connect"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and STATEMENT.match(node.value):
            found.append((node.lineno, node.value.strip()[:60]))
    return found


def scanned_files() -> list[Path]:
    out = []
    for top in SCANNED:
        for path in sorted((REPO / top).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if not rel.startswith(EXEMPT):
                out.append(path)
    return out


def test_no_sql_reaches_the_catalogue_from_outside_its_package() -> None:
    files = scanned_files()
    assert len(files) > 100  # the scan sees the repository
    problems = [
        f"{path.relative_to(REPO)}:{line}: {what}"
        for path in files
        for line, what in sql_reaching_the_catalogue(path.read_text(encoding="utf-8"))
    ]
    assert not problems, (
        "SQL outside odarchive/catalogue/: move it into a query module there (one per concern) and call that:\n"
        + "\n".join(problems)
    )


@pytest.mark.parametrize(
    "code",
    [
        'cat.conn.execute("SELECT 1")',
        "conn.executemany(sql, rows)",
        'db = sqlite3.connect("catalogue.sqlite")',
        "from sqlite3 import connect",
        'ROWS = "SELECT id, label FROM discs WHERE id=?"',
        'q = f"UPDATE discs SET slot={slot} WHERE id=?"',
        'q = "INSERT OR IGNORE INTO disc_copies(disc_id, copy) VALUES (?, ?)"',
        '"PRAGMA data_version"',
    ],
)
def test_the_gate_sees_sql(code: str) -> None:
    assert sql_reaching_the_catalogue(code)


@pytest.mark.parametrize(
    "code",
    [
        "disc_rows.ids(cat.conn)",
        "burns.set_slot(conn, disc, copy, slot)",
        '"select the discs to burn"',
        '"Update the plan first"',
        "except_this = sqlite3.Error",
        "pool.submit(job)",
    ],
)
def test_the_gate_lets_the_api_and_prose_through(code: str) -> None:
    assert not sql_reaching_the_catalogue(code)
