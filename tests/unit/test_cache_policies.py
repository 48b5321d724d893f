"""Each policy's SQL twin orders chunks exactly as the policy function (the definition) does."""

from __future__ import annotations

import random
import sqlite3

import pytest

from fuse_mount.cache import POLICIES
from fuse_mount.cache.policies import get_policy, policy_sql


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_sql_twin_orders_as_the_function(name):
    policy = POLICIES[name]
    rng = random.Random(3)
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE chunks (length INTEGER, last_access_s REAL, hits INTEGER)")
    rows = []
    for _ in range(2000):  # with many ties: few distinct sizes, times and hit counts
        rows.append((rng.choice([100, 4096, 65536, 1 << 24]), float(rng.randrange(0, 50)), rng.randrange(0, 4)))
    conn.executemany("INSERT INTO chunks VALUES (?, ?, ?)", rows)
    now = 60.0
    sql = policy_sql(policy)
    assert sql is not None
    got = [r[0] for r in conn.execute(f"SELECT c.rowid FROM chunks c ORDER BY {sql}", {"now": now})]
    want = sorted(
        range(1, len(rows) + 1),
        key=lambda i: (-policy(rows[i - 1][0], rows[i - 1][1], rows[i - 1][2], now), rows[i - 1][1], i),
    )
    assert got == want


def test_unknown_policy():
    with pytest.raises(ValueError, match="lru"):
        get_policy("fifo")


def test_a_policy_without_sql_twin_ranks_through_the_function(tmp_path):
    from fuse_mount.cache.index import Index

    index = Index.open(tmp_path / "index.sqlite")
    with index.transaction():
        for i, (length, t) in enumerate([(10, 5.0), (30, 1.0), (20, 9.0)]):
            index.add_chunk(f"{i:064x}", length, 0, length, b"", t)

    def biggest(nbytes: int, last_access_s: float, hits: int, now_s: float) -> float:
        return nbytes

    assert policy_sql(biggest) is None
    assert [r.length for r in index.candidates(biggest, 10.0, False, 10)] == [30, 20, 10]
    assert [r.length for r in index.candidates(POLICIES["lru"], 10.0, False, 2)] == [30, 10]
