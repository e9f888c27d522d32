"""merge(): one record per real person, household and business, with provenance and conflicts."""

from __future__ import annotations

from datetime import datetime

from dedupe_data import ID_A, ID_B, ID_C, ID_D, T1, T2, V1, V2, V3, AddFn

from hub.dedupe import explain_person, list_conflicts, merge
from hub.store.db import Database

NOW = datetime(2026, 3, 1, 12, 0)


def code_of(db: Database, id_number: str) -> str:
    return str(db.scalar("SELECT person_code FROM hub_person WHERE id_number = ?", [id_number]))


def three_ledgers(add: AddFn) -> None:
    add(1, "population", [
        {"id_number": ID_A, "name": "张伟", "sex": "1", "birth_date": "1990-01-01", "ethnicity": "01",
         "village_code": V1, "address": "一组3号", "phone": "13800000001"},
        {"id_number": ID_B, "name": "李娜", "sex": "2", "village_code": V2},
    ], at="2026-01-05 09:00:00")  # fmt: skip
    add(2, "disability", [
        {"id_number": ID_A, "name": "张伟", "disability_category": "4", "disability_level": "2",
         "disability_cert": ID_A + "42"},
    ], at="2026-01-06 09:00:00")  # fmt: skip
    add(3, "dibao", [
        {"household_key": "1", "id_number": ID_A, "name": "张伟", "head_name": "张伟", "head_id_number": ID_A,
         "relation": "01", "covered": True, "covered_count": 2, "household_size": 3, "dibao_amount": 1260,
         "dibao_category": "2", "dibao_start": "2025-07-01", "phone": "13900000009"},
        {"household_key": "1", "id_number": ID_C, "name": "张小宝", "head_name": "张伟", "head_id_number": ID_A,
         "relation": "20", "covered": True},
        {"household_key": "1", "id_number": ID_B, "name": "李娜", "head_name": "张伟", "head_id_number": ID_A,
         "relation": "10", "covered": False},
    ], at="2026-01-07 09:00:00")  # fmt: skip


def test_one_person_per_id_across_three_ledgers(db: Database, add: AddFn) -> None:
    three_ledgers(add)
    summary = merge(db, NOW)
    assert (summary.persons, summary.households, summary.businesses) == (3, 1, 0)
    assert db.scalar("SELECT count(*) FROM hub_person WHERE id_number = ?", [ID_A]) == 1
    p = db.dicts("SELECT * FROM hub_person WHERE id_number = ?", [ID_A])[0]
    assert (p["name"], p["village_code"], p["address"], p["alive"]) == ("张伟", V1, "一组3号", True)
    assert p["phone"] == "13900000009"  # no owner: the latest submission (低保 roster) wins
    assert db.rows("SELECT category, level, certificate FROM hub_disability") == [("4", "2", ID_A + "42")]
    kinds = db.rows(
        "SELECT DISTINCT kind FROM hub_values WHERE entity = 'person' AND entity_code = ? ORDER BY 1",
        [p["person_code"]],
    )
    assert kinds == [("dibao",), ("disability",), ("population",)]
    explained = explain_person(db, p["person_code"])
    assert {s["submission_id"] for s in explained["sources"]} == {1, 2, 3}
    phone = [v for v in explained["values"] if v["field"] == "phone"]
    assert [(v["value"], v["file"], v["row"]) for v in phone] == [
        ("13900000009", "dibao-3.xlsx", 3), ("13800000001", "population-1.xlsx", 3)]  # fmt: skip


def test_dibao_household_and_memberships(db: Database, add: AddFn) -> None:
    three_ledgers(add)
    merge(db, NOW)
    h = db.dicts("SELECT * FROM hub_household")[0]
    assert (h["kind"], h["township_code"], h["household_size"], h["covered_count"]) == ("低保家庭", T1, 3, 2)
    assert (float(h["dibao_amount"]), h["dibao_category"], h["active"]) == (1260.0, "2", True)
    assert h["head_person_code"] == code_of(db, ID_A)
    members = db.rows("SELECT person_code, relation, covered, seq FROM hub_membership ORDER BY seq")
    assert members == [(code_of(db, ID_A), "02", True, 1), (code_of(db, ID_C), "20", True, 2),
                       (code_of(db, ID_B), "10", False, 3)]  # fmt: skip
    key = db.scalar("SELECT natural_key FROM hub_codes WHERE entity = 'household'")
    assert key == "dibao:" + ID_A


def test_hukou_household_from_population_rows(db: Database, add: AddFn) -> None:
    add(1, "population", [
        {"id_number": ID_A, "name": "张伟", "household_no": "0012", "relation": "02", "village_code": V1},
        {"id_number": ID_B, "name": "李娜", "household_no": "0012", "relation": "10", "village_code": V1},
        {"id_number": ID_D, "name": "王五", "household_no": "0013", "relation": "02", "village_code": V2},
    ])  # fmt: skip
    merge(db, NOW)
    rows = db.rows(
        "SELECT kind, household_size, head_person_code, covered_count FROM hub_household ORDER BY 1, 2"
    )
    assert rows == [("户籍户", 1, code_of(db, ID_D), None), ("户籍户", 2, code_of(db, ID_A), None)]


def test_duplicate_registration_in_two_townships(db: Database, add: AddFn) -> None:
    add(1, "population", [{"id_number": ID_A, "name": "张伟", "village_code": V1}], township=T1,
        at="2026-01-05 09:00:00", file="甲镇.xlsx")  # fmt: skip
    add(2, "population", [{"id_number": ID_A, "name": "张伟", "village_code": V3}], township=T2,
        at="2026-02-05 09:00:00", file="乙镇.xlsx")  # fmt: skip
    summary = merge(db, NOW)
    assert summary.persons == 1 and summary.duplicate_registrations == 1
    assert db.rows("SELECT township_code, village_code FROM hub_person") == [(T2, V3)]
    dup = [c for c in list_conflicts(db) if c["kind"] == "重复登记"]
    assert len(dup) == 1 and dup[0]["field"] == "township_code" and dup[0]["chosen"] == T2
    assert [s["file"] for s in dup[0]["sources"]] == ["乙镇.xlsx", "甲镇.xlsx"]
    assert "最近一次报送" in dup[0]["rule"]
    assert [c["code"] for c in list_conflicts(db, township=T2) if c["kind"] == "重复登记"] == [dup[0]["code"]]
    assert list_conflicts(db, township=T1) == []


def test_name_spelling_conflict_population_roster_wins(db: Database, add: AddFn) -> None:
    add(1, "population", [{"id_number": ID_A, "name": "张伟"}], at="2026-01-05 09:00:00")
    add(2, "disability", [{"id_number": ID_A, "name": "张玮", "disability_category": "1",
                           "disability_level": "3"}], at="2026-02-05 09:00:00")  # fmt: skip
    merge(db, NOW)
    assert db.scalar("SELECT name FROM hub_person") == "张伟"
    [c] = [c for c in list_conflicts(db) if c["field"] == "name"]
    assert (c["kind"], c["chosen"], c["name"]) == ("值不一致", "张伟", "张伟")
    assert "实有人口台账为准" in c["rule"]
    assert sorted(s["value"] for s in c["sources"]) == ["张伟", "张玮"]
    assert {s["kind"] for s in c["sources"]} == {"population", "disability"}


def test_disability_facts_from_disability_ledger_despite_later_roster(db: Database, add: AddFn) -> None:
    add(1, "disability", [{"id_number": ID_A, "name": "张伟", "disability_category": "4",
                           "disability_level": "2"}], at="2026-01-05 09:00:00")  # fmt: skip
    add(
        2,
        "population",
        [{"id_number": ID_A, "name": "张伟", "disability_level": "4"}],
        at="2026-03-01 09:00:00",
    )
    merge(db, NOW)
    assert db.rows("SELECT category, level FROM hub_disability") == [("4", "2")]
    [c] = list_conflicts(db)
    assert (c["field"], c["chosen"]) == ("disability_level", "2") and "残疾人台账为准" in c["rule"]


def test_rejected_rows_never_merged(db: Database, add: AddFn) -> None:
    add(1, "population", [{"id_number": ID_A, "name": "张伟"}, {"id_number": ID_B, "name": "李娜"}])
    db.execute("UPDATE hub_rows SET accepted = false WHERE id_number = ?", [ID_B])
    add(2, "population", [{"id_number": ID_A, "name": "错名字", "accepted": False}], at="2026-05-01 00:00:00")
    merge(db, NOW)
    assert db.rows("SELECT id_number, name FROM hub_person") == [(ID_A, "张伟")]
    assert db.scalar("SELECT count(*) FROM hub_values WHERE value IN ('李娜', '错名字')") == 0
    assert db.scalar("SELECT count(*) FROM hub_codes WHERE natural_key = ?", [ID_B]) == 0


def test_exact_duplicate_rows_collapse_and_death(db: Database, add: AddFn) -> None:
    row = {"id_number": ID_A, "name": "张伟", "person_status": "2"}
    add(1, "population", [row, row, {"id_number": ID_B, "name": "李娜", "death_date": "2025-12-01"}])
    merge(db, NOW)
    assert db.scalar("SELECT count(*) FROM hub_values WHERE field = 'name' AND value = '张伟'") == 1
    assert db.rows("SELECT id_number, alive FROM hub_person ORDER BY 1") == [(ID_B, False), (ID_A, False)]
    assert list_conflicts(db) == []


def test_every_entity_in_at_most_one_township(db: Database, add: AddFn) -> None:
    three_ledgers(add)
    add(4, "dibao", [{"household_key": "9", "id_number": ID_A, "name": "张伟", "head_id_number": ID_A,
                      "relation": "02", "covered": True}], township=T2, at="2026-02-01 00:00:00")  # fmt: skip
    add(5, "business", [{"uscc": "92330702MA2XXXXX1K", "business_name": "张记小吃", "operator_name": "张伟"}],
        township=T2)  # fmt: skip
    add(6, "business", [{"uscc": "92330702MA2XXXXX1K", "business_name": "张记小吃店"}], township=T1,
        at="2026-02-01 00:00:00")  # fmt: skip
    merge(db, NOW)
    for table, key in (("hub_person", "person_code"), ("hub_household", "household_code"),
                       ("hub_business", "business_code")):  # fmt: skip
        assert db.scalar(f"SELECT count(*) - count(DISTINCT {key}) FROM {table}") == 0
        assert db.scalar(f"SELECT count(*) FROM {table} WHERE township_code IS NULL") == 0
    assert db.rows("SELECT township_code, name, operator_name FROM hub_business") == [
        (T1, "张记小吃店", "张伟")
    ]
    assert db.scalar("SELECT township_code FROM hub_household") == T2
    assert db.scalar("SELECT household_size FROM hub_household") == 1  # latest roster's members only


def test_hub_values_view_matches_conflict_sources_and_rules(db: Database, add: AddFn) -> None:
    """hub_values is a view over hub_rows; conflict sources are read for flagged entities only. Both
    come from one generator: every conflict's sources are exactly its hub_values rows."""
    from hub.dedupe.values import ENTITY_FIELDS

    three_ledgers(add)
    add(4, "population", [{"id_number": ID_A, "name": "张玮", "village_code": V3, "phone": "1"}] * 2,
        township=T2, at="2026-02-01 00:00:00")  # fmt: skip
    merge(db, NOW)
    conflicts = list_conflicts(db)
    assert {c["field"] for c in conflicts} >= {"name", "township_code", "phone", "village_code"}
    for c in conflicts:
        view = db.rows(
            "SELECT value, submission_id, sheet, row_no FROM hub_values WHERE entity = ? AND entity_code = ? "
            "AND field = ? ORDER BY submitted_at DESC, submission_id DESC, sheet, row_no",
            [c["entity"], c["code"], c["field"]],
        )
        assert view == [(s["value"], s["submission_id"], s["sheet"], s["row"]) for s in c["sources"]]
    fields = set(db.rows("SELECT DISTINCT entity, field FROM hub_values"))
    assert fields <= {(e, f.field) for e, rules in ENTITY_FIELDS.items() for f in rules}
    assert ("person", "disability_cert") in fields and ("household", "dibao_amount") in fields
    # duplicate row of submission 4 is one source; the view follows the rows (rejecting one hides it)
    assert db.scalar("SELECT count(*) FROM hub_values WHERE submission_id = 4 AND field = 'name'") == 1
    db.execute("UPDATE hub_rows SET accepted = false WHERE submission_id = 4")
    assert db.scalar("SELECT count(*) FROM hub_values WHERE submission_id = 4") == 0
