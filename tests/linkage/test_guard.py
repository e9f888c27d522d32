"""Bounded pairwise work (hub.dedupe.linkage.guard): exact duplicates collapse before comparison and
an oversized blocking block is not compared pairwise. Oracle: the same store linked without the
guard (limits high enough never to apply) gives the same people."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from hub.dedupe.linkage import LinkageConfig, run_linkage
from hub.store.db import Database
from tests.linkage.test_small_store import VILLAGES, _person, _store


def _people(db: Database) -> set[frozenset[tuple[int, int]]]:
    """The partition of rows into persons: each person as the set of its (submission, row)."""
    groups: dict[str, set[tuple[int, int]]] = {}
    for sid, row, code in db.rows("SELECT submission_id, row_no, person_code FROM hub_link_clusters"):
        groups.setdefault(str(code), set()).add((int(sid), int(row)))
    return {frozenset(g) for g in groups.values()}


def _ledgers() -> dict[str, list[dict[str, Any]]]:
    """40 distinct people; one repeated 30 times with its ID, one repeated 30 times without an ID
    (rejected, floating), and both also once more in a second ledger."""
    people = [_person(i, VILLAGES[i % 3]) for i in range(40)]
    twin = _person(41)
    floating = {k: v for k, v in _person(42).items() if k != "id"}
    return {
        "population": people + [twin] * 30 + [floating] * 30,
        "disability": [twin, floating, people[3]],
    }


def test_identical_records_collapse_and_link_as_without_the_guard(tmp_path: Path) -> None:
    free = LinkageConfig(model_path=tmp_path / "a.json", max_identical=1000, max_block=100_000)
    tight = replace(free, model_path=tmp_path / "b.json", max_identical=2)
    a, b = _store(_ledgers()), _store(_ledgers())
    plain, guarded = run_linkage(a, free), run_linkage(b, tight)
    assert _people(a) == _people(b)
    assert guarded.records == plain.records == 40 + 60 + 3
    # every copy of the person with an ID is one person; its 31 rows (30 + 1) are one group
    assert any(len(g) == 31 for g in _people(b))
    assert not [w for w in guarded.warnings if "过大" in w]


def test_an_oversized_block_is_named_and_not_compared_pairwise(tmp_path: Path) -> None:
    # 60 records without an ID, one name, one birth date, one village (not collapsed: the limit on
    # identical records is set high): every block holding them is oversized for max_block=10, and no
    # hard rule links them
    base = {k: v for k, v in _person(0).items() if k != "id"}
    rows = [base] * 60 + [_person(100)]
    free = LinkageConfig(model_path=tmp_path / "a.json", max_identical=1000)
    a = _store({"population": rows})
    run_linkage(a, free)
    assert len(_people(a)) < 61  # compared pairwise, the 60 merge

    db = _store({"population": rows})
    summary = run_linkage(db, replace(free, model_path=tmp_path / "m.json", max_block=10))
    warning = next(w for w in summary.warnings if "出生日期相同且同村" in w)
    assert "最大一组 60 条记录" in warning and "上限 10 条" in warning and "提交号 1" in warning
    assert db.scalar("SELECT count(*) FROM hub_link_pairs") == 0
    assert len(_people(db)) == 61  # each record keeps its own person code
