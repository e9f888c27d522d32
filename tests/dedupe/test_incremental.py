"""merge_incremental() == merge(), table by table, after every step of random sequences of
submissions, resubmissions of changed rows, ID fills, rejections, withdrawals and code redirects.

Two stores receive the same steps; one is merged incrementally after each, the other fully (the
oracle). Codes are compared as they are: both stores allocate them, so a code numbered differently by
the incremental merge fails the test.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from dedupe_data import add_submission
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.dedupe import merge
from hub.dedupe.incremental import merge_incremental
from hub.store.db import Database

NOW = datetime(2026, 3, 1, 12, 0)
IDS = [f"3307021990010{i:04d}1" for i in range(5)]
USCCS = [f"91330702MA2{i:07d}" for i in range(3)]
NAMES = ["张伟", "李娜", "王芳", "张小宝"]
TOWNS = ["330702001", "330702002"]
TABLES = {
    "hub_person": "*",
    "hub_disability": "*",
    "hub_household": "*",
    "hub_membership": "*",
    "hub_business": "*",
    "hub_conflicts": "*",
    "hub_codes": "entity, natural_key, code, redirect_to",
}

person_row = st.fixed_dictionaries(
    {"id_number": st.sampled_from(IDS), "name": st.sampled_from(NAMES)},
    optional={
        "sex": st.sampled_from(["1", "2"]),
        "village_code": st.sampled_from([t + "001" for t in TOWNS] + [TOWNS[0] + "002"]),
        "phone": st.sampled_from(["13800000001", "13900000002"]),
        "person_status": st.sampled_from(["1", "2"]),
        "disability_category": st.sampled_from(["1", "4"]),
        "household_no": st.sampled_from(["001", "002"]),
        "address": st.sampled_from(["一组3号", "二组5号"]),
    },
)
dibao_row = st.fixed_dictionaries(
    {
        "id_number": st.sampled_from(IDS),
        "name": st.sampled_from(NAMES),
        "household_key": st.sampled_from(["1", "2"]),
    },
    optional={
        "relation": st.sampled_from(["01", "10", "20"]),
        "head_id_number": st.sampled_from(IDS),
        "covered": st.booleans(),
        "covered_count": st.integers(1, 3),
        "dibao_amount": st.sampled_from([600, 1260]),
        "dibao_category": st.sampled_from(["1", "2"]),
    },
)
business_row = st.fixed_dictionaries(
    {"uscc": st.sampled_from(USCCS), "business_name": st.sampled_from(["青山小卖部", "绿水饭店"])},
    optional={"operator_name": st.sampled_from(NAMES), "phone": st.sampled_from(["13800000001"])},
)

submission = st.one_of(
    st.tuples(st.just("population"), st.lists(person_row, min_size=1, max_size=5)),
    st.tuples(st.just("disability"), st.lists(person_row, min_size=1, max_size=3)),
    st.tuples(st.just("dibao"), st.lists(dibao_row, min_size=1, max_size=5)),
    st.tuples(st.just("business"), st.lists(business_row, min_size=1, max_size=3)),
)
step = st.one_of(
    st.tuples(st.just("submit"), submission, st.sampled_from(TOWNS)),
    st.tuples(st.just("fill"), st.integers(0, 50), st.sampled_from(IDS)),  # a row's ID filled/changed
    st.tuples(st.just("reject"), st.integers(0, 50)),  # a row rejected (id-misused)
    st.tuples(st.just("restore"), st.integers(0, 50)),  # a rejected row accepted again
    st.tuples(st.just("withdraw"), st.integers(0, 10)),
    st.tuples(st.just("redirect"), st.sampled_from(IDS), st.sampled_from(IDS)),  # linkage merged codes
    st.tuples(st.just("split"), st.sampled_from(IDS)),  # linkage undid a redirect
    st.tuples(st.just("resubmit"), st.integers(0, 10), st.sampled_from(NAMES)),  # a row changed in place
)


def _apply(db: Database, op: tuple[Any, ...], n: int) -> None:
    """One step on one store (deterministic: both stores end up with the same rows and codes)."""
    kind = op[0]
    rows = "SELECT submission_id, sheet, row_no FROM hub_rows ORDER BY 1, 2, 3"
    all_rows = db.rows(rows)
    subs = [r[0] for r in db.rows("SELECT submission_id FROM hub_submissions ORDER BY 1")]
    if kind == "submit":
        _, (ledger, data), town = op
        at = (datetime(2026, 1, 1) + timedelta(hours=n)).isoformat(sep=" ")
        add_submission(db, n + 1, ledger, data, township=town, at=at)
    elif kind in ("fill", "reject", "restore") and all_rows:
        sid, sheet, row_no = all_rows[op[1] % len(all_rows)]
        where = "submission_id = ? AND sheet = ? AND row_no = ?"
        if kind == "fill":
            db.execute(
                f"UPDATE hub_rows SET id_number = ?, accepted = true WHERE {where}",
                [op[2], sid, sheet, row_no],
            )
        else:
            db.execute(
                f"UPDATE hub_rows SET accepted = ? WHERE {where}", [kind == "restore", sid, sheet, row_no]
            )
    elif kind == "withdraw" and subs:
        sid = subs[op[1] % len(subs)]
        db.execute("DELETE FROM hub_rows WHERE submission_id = ?", [sid])
        db.execute("DELETE FROM hub_submissions WHERE submission_id = ?", [sid])
    elif kind == "resubmit" and all_rows:
        # the ledger again with one row changed: a new submission (a stored row is never rewritten,
        # hub.dedupe.incremental.MUTABLE), the old one withdrawn
        sid, sheet, row_no = all_rows[op[1] % len(all_rows)]
        new = 1000 + n
        db.execute(
            "INSERT INTO hub_submissions SELECT * REPLACE (? AS submission_id) FROM hub_submissions WHERE submission_id = ?",
            [new, sid],
        )
        db.execute(
            "INSERT INTO hub_rows SELECT * REPLACE (? AS submission_id, CASE WHEN sheet = ? AND row_no = ? THEN ? "
            "ELSE name END AS name, CASE WHEN sheet = ? AND row_no = ? THEN '13700000000' ELSE phone END AS phone) "
            "FROM hub_rows WHERE submission_id = ?",
            [new, sheet, row_no, op[2], sheet, row_no, sid],
        )
        db.execute("DELETE FROM hub_rows WHERE submission_id = ?", [sid])
        db.execute("DELETE FROM hub_submissions WHERE submission_id = ?", [sid])
    elif kind == "redirect":
        # like linkage's stable codes: the newer of the two codes redirects to the older, one level deep
        codes = dict(
            db.rows("SELECT natural_key, code FROM hub_codes WHERE entity = 'person' AND redirect_to IS NULL")
        )
        a, b = codes.get(op[1]), codes.get(op[2])
        if a and b and a != b:
            old, new = sorted((a, b))
            db.execute("UPDATE hub_codes SET redirect_to = ? WHERE entity = 'person' AND (code = ? OR redirect_to = ?)",
                       [old, new, new])  # fmt: skip
    elif kind == "split":
        db.execute(
            "UPDATE hub_codes SET redirect_to = NULL WHERE entity = 'person' AND natural_key = ?", [op[1]]
        )


def _tables(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for table, cols in TABLES.items():
        rows = db.rows(f"SELECT {cols} FROM {table}")
        out[table] = sorted(rows, key=repr)
    return out


def _run(steps: list[tuple[Any, ...]]) -> int:
    """Both stores through ``steps``; returns how many incremental merges recomputed a strict subset."""
    inc, full = Database(None), Database(None)
    partial = 0
    try:
        for n, op in enumerate(steps):
            for db in (inc, full):
                _apply(db, op, n)
            merge_incremental(inc, NOW)
            merge(full, NOW)
            assert _tables(inc) == _tables(full), f"after step {n}: {op}"
            state = inc.dicts("SELECT * FROM hub_merge_state")[0]
            if state["mode"] == "incremental" and (state["persons"] or 0) < full.scalar(
                "SELECT count(*) FROM hub_person"
            ):
                partial += 1
    finally:
        inc.close()
        full.close()
    return partial


_SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "derandomize": True}


@settings(max_examples=4, **_SETTINGS)  # type: ignore[arg-type]
@given(st.lists(step, min_size=2, max_size=5))
def test_incremental_equals_full(steps: list[tuple[Any, ...]]) -> None:
    _run(steps)


@pytest.mark.slow
@settings(max_examples=80, **_SETTINGS)  # type: ignore[arg-type]
@given(st.lists(step, min_size=2, max_size=14))
def test_incremental_equals_full_many(steps: list[tuple[Any, ...]]) -> None:
    _run(steps)


def test_incremental_recomputes_only_what_changed() -> None:
    """A new ledger of one person recomputes that person (and its households) only, not the store;
    a merge with nothing changed recomputes nothing."""
    db = Database(None)
    add_submission(
        db, 1, "population", [{"id_number": i, "name": "张伟", "household_no": "001"} for i in IDS[:4]]
    )
    add_submission(db, 2, "business", [{"uscc": USCCS[0], "business_name": "青山小卖部"}])
    first = merge_incremental(db, NOW)  # no snapshot yet: the full merge
    assert db.scalar("SELECT mode FROM hub_merge_state") == "full"
    assert (first.persons, first.households, first.businesses) == (4, 1, 1)
    add_submission(db, 3, "disability", [{"id_number": IDS[4], "name": "王芳", "disability_category": "4"}],
                   at="2026-02-01 09:00:00")  # fmt: skip
    second = merge_incremental(db, NOW)
    state = db.dicts("SELECT * FROM hub_merge_state")[0]
    assert state["mode"] == "incremental"
    assert (state["persons"], state["households"], state["businesses"]) == (0, 0, 0)  # one new key only
    assert second.persons == 5
    assert db.scalar("SELECT category FROM hub_disability") == "4"
    merge_incremental(db, NOW)
    assert db.dicts("SELECT persons FROM hub_merge_state")[0]["persons"] == 0


def test_redirect_of_a_member_recomputes_the_household() -> None:
    """Linkage merges two persons of one 低保 household: the household's members and head follow."""
    dibao = [
        {"household_key": "1", "id_number": IDS[0], "name": "张伟", "relation": "01", "covered": True},
        {"household_key": "1", "id_number": IDS[1], "name": "张伟", "relation": "10", "covered": True},
        {"household_key": "1", "id_number": IDS[2], "name": "李娜", "relation": "20", "covered": False},
    ]
    steps: list[tuple[Any, ...]] = [
        ("submit", ("dibao", dibao), TOWNS[0]),
        ("redirect", IDS[0], IDS[1]),
        ("split", IDS[1]),
        ("redirect", IDS[2], IDS[1]),
    ]
    assert _run(steps) >= 1


def test_stored_rows_change_only_in_the_columns_the_merge_hashes() -> None:
    """The incremental merge finds changed submissions by hashing only the keys and the MUTABLE
    columns of their rows: no code may rewrite another column of a stored row."""
    import re

    from hub.dedupe.incremental import MUTABLE
    from hub.paths import REPO_ROOT

    found = {}
    for path in (REPO_ROOT / "hub").rglob("*.py"):
        for m in re.finditer(
            r"UPDATE\s+hub_rows\b(?:\s+(?:AS\s+)?\w+)?\s+SET\s+(.*?)\s+(?:FROM|WHERE)\b",
            path.read_text(),
            re.S | re.I,
        ):
            found.setdefault(path.name, set()).update(
                c.strip().split()[0] for c in re.split(r",\s*(?=\w+\s*=)", m.group(1))
            )
    assert found, "no UPDATE of hub_rows found: the pattern no longer matches the code"
    for name, cols in found.items():
        assert cols <= set(MUTABLE), f"{name} rewrites {sorted(cols - set(MUTABLE))} of stored rows"
