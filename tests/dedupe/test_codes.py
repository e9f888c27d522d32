"""Stable codes (一人一码): created once, never changed, independent of file order."""

from __future__ import annotations

from datetime import datetime

from dedupe_data import ID_A, ID_B, ID_C, ID_D, T1, T2, AddFn, add_submission
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.dedupe import explain_person, merge
from hub.store.db import Database
from tests.shared import examples

IDS = [ID_A, ID_B, ID_C, ID_D, "330702200002029876", "110101194912310011", "81000019800101123X"]


def codes(db: Database, entity: str = "person") -> dict[str, str]:
    return dict(db.rows("SELECT natural_key, code FROM hub_codes WHERE entity = ?", [entity]))


def test_codes_are_formatted_in_natural_key_order(db: Database, add: AddFn) -> None:
    add(1, "population", [{"id_number": i, "name": "某"} for i in (ID_C, ID_A, ID_B)])
    add(2, "business", [{"uscc": "92330702MA2XXXXX1K", "business_name": "店"}])
    merge(db, datetime(2026, 1, 1))
    assert codes(db) == {ID_B: "P000000001", ID_A: "P000000002", ID_C: "P000000003"}
    assert codes(db, "business") == {"92330702MA2XXXXX1K": "B000000001"}
    assert db.scalar("SELECT min(created_at) FROM hub_codes") == datetime(2026, 1, 1)


def test_codes_stable_across_remerge_and_new_rows(db: Database, add: AddFn) -> None:
    add(1, "population", [{"id_number": i, "name": "某"} for i in (ID_C, ID_D)])
    merge(db, datetime(2026, 1, 1))
    first = codes(db)
    merge(db, datetime(2026, 1, 2))
    assert codes(db) == first
    # New keys sort before the old ones: old codes stay, new ones come after the highest.
    add(2, "population", [{"id_number": i, "name": "某"} for i in (ID_A, ID_B, ID_C)], township=T2,
        at="2026-02-01 00:00:00")  # fmt: skip
    merge(db, datetime(2026, 2, 2))
    after = codes(db)
    assert {k: after[k] for k in first} == first
    assert (after[ID_B], after[ID_A]) == ("P000000003", "P000000004")
    assert db.scalar("SELECT created_at FROM hub_codes WHERE natural_key = ?", [ID_C]) == datetime(2026, 1, 1)
    assert db.scalar("SELECT count(*) FROM hub_person") == 4


def test_codes_survive_when_rows_disappear(db: Database, add: AddFn) -> None:
    add(1, "population", [{"id_number": i, "name": "某"} for i in (ID_A, ID_B)])
    merge(db)
    before = codes(db)
    db.execute("UPDATE hub_rows SET accepted = false WHERE id_number = ?", [ID_A])
    add(2, "population", [{"id_number": ID_C, "name": "某"}], at="2026-02-01 00:00:00")
    merge(db)
    assert db.rows("SELECT id_number FROM hub_person ORDER BY 1") == [(ID_B,), (ID_C,)]
    assert {k: codes(db)[k] for k in before} == before


def test_redirected_code_is_followed(db: Database, add: AddFn) -> None:
    add(1, "population", [{"id_number": i, "name": n} for i, n in ((ID_A, "甲"), (ID_B, "乙"))])
    merge(db)
    a, b = codes(db)[ID_A], codes(db)[ID_B]
    db.execute("UPDATE hub_codes SET redirect_to = ? WHERE natural_key = ?", [a, ID_B])
    merge(db)
    assert db.rows("SELECT person_code FROM hub_person") == [(a,)]
    assert explain_person(db, b)["code"] == a


SUBMISSIONS = [
    ("population", [{"id_number": i, "name": "人" + i[-4:]} for i in IDS[:4]]),
    (
        "disability",
        [
            {"id_number": i, "name": "残", "disability_category": "1", "disability_level": "2"}
            for i in IDS[2:6]
        ],
    ),  # fmt: skip
    (
        "dibao",
        [
            {"household_key": "1", "id_number": i, "name": "保", "head_id_number": IDS[6], "relation": "20"}
            for i in IDS[4:]
        ],
    ),  # fmt: skip
    ("population", [{"id_number": i, "name": "迁", "village_code": T2 + "001"} for i in IDS[::2]]),
]


def _merged(order: list[int]) -> tuple[dict[str, str], dict[str, str]]:
    db = Database(None)
    for pos, idx in enumerate(order, start=1):
        kind, rows = SUBMISSIONS[idx]
        add_submission(db, pos, kind, rows, township=T1, at=f"2026-01-{pos:02d} 08:00:00")
    merge(db, datetime(2026, 3, 1))
    return codes(db), codes(db, "household")


BASELINE = _merged([0, 1, 2, 3])


@settings(
    max_examples=examples(fast=6, full=24),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.permutations([0, 1, 2, 3]))
def test_new_codes_independent_of_submission_order(order: list[int]) -> None:
    assert _merged(order) == BASELINE
