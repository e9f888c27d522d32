"""Classes of rows that used to be missed, each planted into a generated county (ground truth known):

* an ID with two digits transposed (``id-checksum``), written in another township, with day and month
  swapped and no phone: no key it shares with its person is exact except name and birth year;
* an ID Excel stored as a float (``330727199001011200.0``, ``id-precision-lost``), written in another
  township, birth date known to the month only;
* a valid ID copied from someone with no row of their own (``birthdate-id-mismatch``): the clerk's
  birth date and sex are another, same-named, valid ID's.

Each is filled from (or joins) the right person through the public ``run_linkage``.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from benchmarks.gen_chinese_linkage import generate, load
from hub.dedupe.linkage import LinkageConfig, run_linkage
from hub.store.db import Database
from hub.synth.checkdigits import make_id

N = 3000


def _loners(data: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Clean population rows of persons with exactly one record and a name nobody else has."""
    per_person = Counter(t["person"] for t in data["truth"])
    names = Counter(r["name"] for r in data["hub_rows"])
    person = {(t["submission_id"], t["row_no"]): t["person"] for t in data["truth"]}
    return [
        r for r in data["hub_rows"]
        if r["accepted"] and r["kind"] == "population" and r["village_code"] and r["birth_precision"] == "day"
        and per_person[person[r["submission_id"], r["row_no"]]] == 1 and names[r["name"]] == 1
        and r["id_number"] and r["birth_date"] == date(int(r["id_number"][6:10]), int(r["id_number"][10:12]),
                                                       int(r["id_number"][12:14]))
    ]  # fmt: skip


def _other_township(data: dict[str, list[dict[str, Any]]], row: dict[str, Any]) -> tuple[int, str]:
    """A population submission of another township and one of its villages."""
    sub = next(s for s in data["hub_submissions"]
               if s["kind"] == "population" and s["township_code"] != row["township_code"])  # fmt: skip
    village = next(r["village_code"] for r in data["hub_rows"]
                   if r["submission_id"] == sub["submission_id"] and r["village_code"])  # fmt: skip
    return sub["submission_id"], village


def _plant(data: dict[str, list[dict[str, Any]]], base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    row = {**base, **changes, "row_no": max(r["row_no"] for r in data["hub_rows"]) + 1}
    data["hub_rows"].append(row)
    return row


def _finding(data: dict[str, list[dict[str, Any]]], row: dict[str, Any], field: str, value: str, code: str,
             severity: str) -> None:  # fmt: skip
    data["hub_findings"].append({"submission_id": row["submission_id"], "sheet": "Sheet1", "row_no": row["row_no"],
                                 "column_name": field, "field": field, "value": value, "code": code,
                                 "severity": severity, "message": code})  # fmt: skip


# its module fixture is built once: every test of the file on one xdist worker (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("linkage_fill_classes")


@pytest.fixture(scope="session")  # not module: xdist interleaves modules on a worker, which rebuilt it
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = generate(N, seed=3)
    rng = random.Random(5)
    loners = _loners(data)
    rng.shuffle(loners)
    used = {r["id_number"] for r in data["hub_rows"] if r["id_number"]}

    # 1. transposed digits, other township, day/month swapped, no phone
    a = next(r for r in loners if r["birth_date"].day <= 12 and r["birth_date"].day != r["birth_date"].month
             and r["id_number"][14] != r["id_number"][15])  # fmt: skip
    sid, village = _other_township(data, a)
    pid = a["id_number"]
    swapped = date(a["birth_date"].year, a["birth_date"].day, a["birth_date"].month)
    checksum = _plant(data, a, submission_id=sid, township_code=village[:9], village_code=village, accepted=False,
                      id_number=None, id_type=None, birth_date=swapped, phone=None)  # fmt: skip
    _finding(data, checksum, "id_number", pid[:14] + pid[15] + pid[14] + pid[16:], "id-checksum", "error")

    # 2. precision lost in the float form, other township, birth date to the month only
    b = next(r for r in loners if r is not a and r["birth_date"].day > 1)
    sid, village = _other_township(data, b)
    lost = _plant(data, b, submission_id=sid, township_code=village[:9], village_code=village, accepted=False,
                  id_number=None, id_type=None, birth_date=b["birth_date"].replace(day=1), birth_precision="month",
                  phone=None)  # fmt: skip
    _finding(
        data, lost, "id_number", f"{int(float(b['id_number'][:17] + '0')):d}.0", "id-precision-lost", "error"
    )

    # 3. a valid ID of someone without a row, carried by c's second row: validation put the number's
    #    birth date and sex in and kept what the clerk wrote in the mismatch findings
    c = next(r for r in loners if r is not a and r is not b)
    other_sex = "2" if c["sex"] == "1" else "1"
    seq = next(s for s in range(1 if other_sex == "1" else 0, 1000, 2)
               if make_id("330727", date(1931, 3, 3), s) not in used)  # fmt: skip
    foreign = make_id("330727", date(1931, 3, 3), seq)
    copied = _plant(data, c, id_number=foreign, birth_date=date(1931, 3, 3), sex=other_sex,
                    phone=None)  # fmt: skip
    _finding(data, copied, "birth_date", c["birth_date"].isoformat(), "birthdate-id-mismatch", "warning")
    _finding(data, copied, "sex", "女" if c["sex"] == "2" else "男", "sex-id-mismatch", "warning")

    db = Database(None)
    load(db, data)
    cfg = LinkageConfig(model_path=Path(tmp_path_factory.mktemp("m")) / "model.json")
    summary = run_linkage(db, cfg)
    return {"db": db, "summary": summary, "checksum": (checksum, pid), "lost": (lost, b["id_number"]),
            "copied": (copied, c["id_number"], foreign)}  # fmt: skip


def _row(db: Database, row: dict[str, Any]) -> tuple[bool, str | None]:
    accepted, id_number = db.rows("SELECT accepted, id_number FROM hub_rows WHERE submission_id = ? AND row_no = ?",
                                  [row["submission_id"], row["row_no"]])[0]  # fmt: skip
    return bool(accepted), id_number


def _filled_message(db: Database, row: dict[str, Any]) -> str:
    return str(db.scalar("SELECT message FROM hub_findings WHERE code = 'id-filled-by-match' AND submission_id = ? "
                         "AND row_no = ?", [row["submission_id"], row["row_no"]]))  # fmt: skip


def test_transposed_id_in_another_township_with_swapped_date_is_filled(planted: dict[str, Any]) -> None:
    db, (row, true_id) = planted["db"], planted["checksum"]
    assert _row(db, row) == (True, true_id)
    assert true_id in _filled_message(db, row)


def test_float_stored_id_in_another_township_known_to_the_month_is_filled(planted: dict[str, Any]) -> None:
    db, (row, true_id) = planted["db"], planted["lost"]
    assert _row(db, row) == (True, true_id)
    assert true_id in _filled_message(db, row)


def test_id_copied_from_someone_without_a_row_is_flagged_and_joins_its_person(
    planted: dict[str, Any],
) -> None:
    db, (row, own_id, foreign) = planted["db"], planted["copied"]
    reason = db.scalar("SELECT reason FROM hub_link_misuse WHERE submission_id = ? AND row_no = ?",
                       [row["submission_id"], row["row_no"]])  # fmt: skip
    assert reason is not None and own_id[:6] in reason and own_id not in reason  # the other ID, masked
    assert _row(db, row)[0] is False
    key = db.scalar("SELECT cluster_key FROM hub_link_clusters WHERE submission_id = ? AND row_no = ?",
                    [row["submission_id"], row["row_no"]])  # fmt: skip
    assert key == own_id and key != foreign


def test_a_model_saved_for_an_older_spec_is_retrained(tmp_path: Path) -> None:
    import json

    from hub.dedupe.linkage.chinese import PERSON_SPEC

    db = Database(None)
    load(db, generate(400, seed=9))
    cfg = LinkageConfig(model_path=tmp_path / "model.json")
    assert run_linkage(db, cfg).trained
    assert not run_linkage(db, cfg).trained  # the same spec: reused
    model = json.loads(cfg.model_path.read_text(encoding="utf-8"))
    model["blocking_rules_to_generate_predictions"] = model["blocking_rules_to_generate_predictions"][:5]
    cfg.model_path.write_text(json.dumps(model), encoding="utf-8")  # as saved before the name+year rules
    assert run_linkage(db, cfg).trained
    saved = json.loads(cfg.model_path.read_text(encoding="utf-8"))
    assert [
        r["blocking_rule"] for r in saved["blocking_rules_to_generate_predictions"]
    ] == PERSON_SPEC.blocking_rules
