"""Keyed report queries (hub.export.keyed): one set of queries per sheet for every township, as an
engine whose queries cost more than their rows runs them (Spark). Run here on the store itself with
that capability set, so the keyed SQL is checked without a JVM: every golden case writes the same
files (every cell, records, problems) as the per-township queries, and a report over two townships
asks the engine as many queries as over one."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from export_helpers import GOLDEN, golden_db, run_golden_case

from hub.store.engine import EngineCapabilities, Params, StoreEngine

CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "input.yaml").exists())


class KeyedStore(StoreEngine):
    """The store, asked to run each report's queries once for every township; counts the queries."""

    def __init__(self) -> None:
        self.capabilities = EngineCapabilities("duckdb", "duckdb", batch_townships=True)
        self.calls: Counter[str] = Counter()

    def rows(self, query: Any, params: Params = None) -> list[tuple[Any, ...]]:
        self.calls["rows"] += 1
        return super().rows(query, params)

    def dicts(self, query: Any, params: Params = None) -> list[dict[str, Any]]:
        self.calls["dicts"] += 1
        return super().dicts(query, params)

    def materialise(self, name: str, select: str, params: Params = None, *, once: bool = False) -> None:
        self.calls["materialise"] += 1
        super().materialise(name, select, params, once=once)

    def in_store(self, db: Any, sql: str, params: Any = None) -> Any:
        self.calls["in_store"] += 1
        return super().in_store(db, sql, params)


@pytest.mark.parametrize("name", CASES)
def test_keyed_queries_write_the_golden_files(name: str, tmp_path: Path) -> None:
    expected = json.loads((GOLDEN / name / "expected.json").read_text(encoding="utf-8"))
    engine = KeyedStore()
    assert run_golden_case(name, tmp_path, engine) == expected
    assert engine.calls["materialise"] > 0


def _queries(name: str, townships: list[str] | None, out: Path) -> tuple[Counter[str], list[Any]]:
    from hub.export import export_reports

    db, case = golden_db(GOLDEN / name)
    engine = KeyedStore()
    engine.attach(db)
    try:
        results = export_reports(
            db,
            reports=[name],
            townships=townships,
            ref_date=dt.date.fromisoformat(case["ref_date"]),
            out_dir=out,
            engine=engine,
        )
    finally:
        db.close()
    return engine.calls, results


def test_two_townships_cost_the_queries_of_one(tmp_path: Path) -> None:
    both, written = _queries("MZ-DIBAO", None, tmp_path / "both")
    townships = sorted({r.township for r in written if r.township})
    assert len(townships) == 2
    one, _ = _queries("MZ-DIBAO", townships[:1], tmp_path / "one")
    assert sum(both.values()) == sum(one.values()) > 0
    assert both == one


def test_a_sheet_without_checks_answers_one_row_of_checks() -> None:
    """GA-SYRK has no checks and no 合计: its check query answers one row, not one per person (at
    1M persons that was a million zeros fetched for nothing: 4 s on Spark)."""
    from hub.export.context import bound_params
    from hub.export.run import _compile, _spec_text

    db, case = golden_db(GOLDEN / "GA-SYRK")
    try:
        assert db.scalar("SELECT count(*) FROM person") > 1
        text, file = _spec_text("GA-SYRK")
        compiled = _compile(db, text, file, dt.date.fromisoformat(case["ref_date"]), None)
        engine = StoreEngine(db)
        rows = engine.rows(engine.render(compiled.sheets[0].checks), bound_params(None, ""))
        assert rows == [(0,)]
    finally:
        db.close()
