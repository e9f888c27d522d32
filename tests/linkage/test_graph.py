"""Clustering: components equal networkx's; clusters partition records; hard rules hold."""

from __future__ import annotations

import random

import networkx as nx
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.dedupe.linkage.graph import cluster_records, connected_components
from hub.store.db import Database
from tests.shared import examples


@pytest.fixture(scope="module")
def db() -> Database:
    return Database(None)


def _edges_table(edges: list[tuple[str, str]]) -> pa.Table:
    return pa.table(
        {"a": pa.array([a for a, _ in edges], pa.string()), "b": pa.array([b for _, b in edges], pa.string())}
    )


@pytest.mark.parametrize("seed", range(25))
def test_components_match_networkx(db: Database, seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(1, 400)
    edges = [(f"n{rng.randrange(n):04d}", f"n{rng.randrange(n):04d}") for _ in range(rng.randint(0, 2 * n))]
    db.register("t_nodes", pa.table({"node": [f"n{i:04d}" for i in range(n)]}))
    db.register("t_edges", _edges_table(edges))
    connected_components(db, "SELECT node FROM t_nodes", "SELECT a, b FROM t_edges", "t_out")
    got: dict[str, set[str]] = {}
    for node, root in db.rows("SELECT node, root FROM t_out"):
        got.setdefault(root, set()).add(node)
        assert root <= node
    g = nx.Graph()
    g.add_nodes_from(f"n{i:04d}" for i in range(n))
    g.add_edges_from(edges)
    assert {frozenset(v) for v in got.values()} == {frozenset(c) for c in nx.connected_components(g)}


records = st.lists(st.sampled_from([None, "A", "B", "C"]), min_size=1, max_size=30)


@settings(max_examples=examples(fast=15, full=60), deadline=None)
@given(ids=records, data=st.data())
def test_clusters_partition_and_hard_rules(db: Database, ids: list[str | None], data: st.DataObject) -> None:
    n = len(ids)
    uids = [f"u{i:03d}" for i in range(n)]
    raw = data.draw(
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.booleans()), max_size=3 * n)
    )
    edges = [(uids[a], uids[b], d) for a, b, d in raw if a != b]
    db.register("t_rec", pa.table({"uid": uids, "id_valid": pa.array(ids, pa.string())}))
    db.register("t_e", pa.table({"a": pa.array([e[0] for e in edges], pa.string()),
                                 "b": pa.array([e[1] for e in edges], pa.string()),
                                 "decided": pa.array([e[2] for e in edges], pa.bool_())}))  # fmt: skip
    cluster_records(db, "t_rec", "SELECT a, b, decided FROM t_e", "t_cl")
    rows = dict(db.rows("SELECT uid, cluster_key FROM t_cl"))
    assert sorted(rows) == uids  # every record exactly once: a partition
    for uid, id_valid in zip(uids, ids, strict=True):
        if id_valid is not None:
            assert rows[uid] == id_valid  # same valid ID = one person, and its key
    for key in set(rows.values()):
        members = {ids[uids.index(u)] for u, k in rows.items() if k == key} - {None}
        assert len(members) <= 1  # two different valid IDs never share a cluster
    # a floating record joins an ID only through an edge path of floating records to that ID
    g = nx.Graph()
    g.add_nodes_from(uids)
    g.add_edges_from((a, b) for a, b, _ in edges)
    for uid, key in rows.items():
        if ids[uids.index(uid)] is None and not key.startswith("rec:"):
            assert any(ids[uids.index(v)] == key for v in nx.node_connected_component(g, uid))
