"""Linkage on stores too small or too new to train a model: a single record, a handful of rows in one
ledger, a first upload where no two records share a training block. Linkage never fails the run: it
links with the saved or default model and the deterministic rules, and says so in one warning line."""

from __future__ import annotations

import csv
import hashlib
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.dedupe.linkage import LinkageConfig, run_linkage
from hub.dedupe.linkage.chinese import DEFAULT_LEVELS, PERSON_SPEC
from hub.dedupe.linkage.engine import fit
from hub.store.db import Database
from hub.synth.checkdigits import make_id
from tests.conftest import SAMPLE, Cli

WARNING = "人员比对：数据太少，无法训练比对模型（"
VILLAGES = ("331099101201", "331099101202", "331099101203")
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"


def _person(i: int, village: str = VILLAGES[0]) -> dict[str, Any]:
    """The i-th person of a township: a unique valid ID, name, sex and birth date that agree with it."""
    born = date(1940, 1, 1) + timedelta(days=97 * i)
    male = i % 2 == 0
    name = SURNAMES[i % len(SURNAMES)] + GIVEN[(7 * i) % len(GIVEN)] + GIVEN[(3 * i + 1) % len(GIVEN)]
    pid = make_id("331099", born, 100 + 2 * (i % 400) + (1 if male else 0))
    return {"name": name, "sex": "1" if male else "2", "birth_date": born, "village_code": village, "id": pid}


def _store(
    ledgers: dict[str, list[dict[str, Any]]], findings: list[dict[str, Any]] | None = None
) -> Database:
    """A store holding ``{kind: rows}`` (one submission per kind) as validation leaves it. A row
    without ``id`` is rejected with ``required-missing`` on its ID."""
    import pyarrow as pa

    db = Database(None)
    subs, rows, found = [], [], list(findings or [])
    for sid, (kind, people) in enumerate(ledgers.items(), start=1):
        subs.append({
            "submission_id": sid, "file_name": f"青山镇_{kind}.xlsx", "township_code": "331099101", "kind": kind,
            "sha256": hashlib.sha256(kind.encode()).hexdigest(), "submitted_at": datetime(2026, 11, 1, 9, sid),
            "submitted_by": "test", "rows": len(people), "accepted": 0, "rejected": 0, "errors": 0, "warnings": 0,
            "annotated_path": None})  # fmt: skip
        for row_no, p in enumerate(people, start=3):
            rows.append({
                "submission_id": sid, "sheet": "Sheet1", "row_no": row_no, "township_code": "331099101",
                "kind": kind, "accepted": p.get("id") is not None, "id_number": p.get("id"),
                "id_type": "resident" if p.get("id") else None, "name": p["name"], "sex": p["sex"],
                "birth_date": p["birth_date"], "birth_precision": "day", "village_code": p["village_code"],
                "phone": None})  # fmt: skip
            if p.get("id") is None:
                found.append({
                    "submission_id": sid, "sheet": "Sheet1", "row_no": row_no, "column_name": "公民身份号码",
                    "field": "id_number", "value": None, "code": "required-missing", "severity": "error",
                    "message": "必填"})  # fmt: skip
    columns = [{"submission_id": s["submission_id"], "sheet": "Sheet1", "col_index": 1, "header": "公民身份号码",
                "field": "id_number"} for s in subs]  # fmt: skip
    for table, records in (("hub_submissions", subs), ("hub_columns", columns), ("hub_rows", rows),
                           ("hub_findings", found)):  # fmt: skip
        if records:
            db.register("__t", pa.Table.from_pylist(records))
            cols = ", ".join(records[0])
            db.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM __t")
            db.unregister("__t")
    return db


@pytest.fixture
def cfg(tmp_path: Path) -> LinkageConfig:
    return LinkageConfig(model_path=tmp_path / "linkage" / "model.json")


def _one_warning(summary: Any, model: str = "默认模型") -> str:
    (line,) = summary.warnings
    assert line.startswith(WARNING) and line.endswith(f"已使用{model}和确定性规则。") and "\n" not in line
    return str(line)


def _person_of(db: Database, kind_sid: int, row_no: int) -> str:
    return str(db.scalar(
        "SELECT person_code FROM hub_link_clusters WHERE submission_id = ? AND row_no = ?", [kind_sid, row_no]
    ))  # fmt: skip


def test_a_single_record_links_with_the_default_model(cfg: LinkageConfig) -> None:
    db = _store({"population": [_person(1)]})
    summary = run_linkage(db, cfg)
    assert "只有 1 条人员记录" in _one_warning(summary)
    assert (summary.records, summary.pairs, summary.clusters, summary.trained) == (1, 0, 1, False)
    assert not cfg.model_path.exists()  # nothing trained, nothing saved: the next upload trains
    assert db.scalar("SELECT count(*) FROM hub_link_levels") > 0  # review and explain can label drivers


def test_an_empty_store_has_nothing_to_link_and_says_nothing(cfg: LinkageConfig) -> None:
    summary = run_linkage(_store({}), cfg)
    assert summary.records == 0 and summary.warnings == []


def test_a_handful_of_rows_same_id_is_one_person_and_a_misused_id_is_flagged(cfg: LinkageConfig) -> None:
    people = [_person(i) for i in range(6)]
    copied = {**_person(30), "id": people[2]["id"]}  # another name carrying person 2's number
    db = _store({"population": people, "disability": [people[0], copied]})
    summary = run_linkage(db, cfg)
    _one_warning(summary)
    assert _person_of(db, 1, 3) == _person_of(db, 2, 3)  # the same valid ID in two ledgers: one person
    assert summary.misused == 1
    assert db.rows("SELECT submission_id, row_no FROM hub_link_misuse") == [(2, 4)]
    assert db.scalar("SELECT accepted FROM hub_rows WHERE submission_id = 2 AND row_no = 4") is False
    assert db.scalar("SELECT count(*) FROM hub_findings WHERE code = 'id-misused'") == 1
    assert _person_of(db, 2, 4) != _person_of(db, 1, 5)  # not merged into the holder


def test_the_default_model_still_fills_an_id_from_a_sure_match(cfg: LinkageConfig) -> None:
    people = [_person(i) for i in range(8)]
    no_id = {k: v for k, v in people[3].items() if k != "id"}  # the same person, ID left empty
    db = _store({"population": people, "disability": [no_id]})
    summary = run_linkage(db, cfg)
    _one_warning(summary)
    assert summary.fill.filled == 1
    assert db.scalar("SELECT id_number FROM hub_rows WHERE submission_id = 2") == people[3]["id"]
    assert _person_of(db, 2, 3) == _person_of(db, 1, 6)
    # two different people never merge on the default model: every other record is its own person
    assert summary.clusters == 8


def test_a_first_upload_where_no_training_rule_has_pairs(cfg: LinkageConfig) -> None:
    """The reported failure: enough records to train, but every ID unique and no two records sharing
    a training block, so Splink's EM found no comparisons and the main job died."""
    people = [_person(i, VILLAGES[i % 3]) for i in range(cfg.min_records_to_train + 10)]
    db = _store({"population": people})
    summary = run_linkage(db, cfg)
    line = _one_warning(summary)
    assert "训练规则“身份证号前17位相同”" in line and "找不到同一人的记录对" in line
    assert summary.clusters == len(people) and not summary.trained and not cfg.model_path.exists()
    again = run_linkage(db, cfg)  # idempotent, and the same single warning
    assert again.warnings == summary.warnings and again.clusters == summary.clusters


def test_a_saved_model_is_used_without_warning_and_named_when_retraining_fails(
    cfg: LinkageConfig, tmp_path: Path
) -> None:
    from hub.dedupe.linkage.engine import default_model, save_model

    saved = default_model(PERSON_SPEC, 10_000)
    save_model(saved, cfg.model_path)
    db = _store({"population": [_person(i) for i in range(4)]})
    summary = run_linkage(db, cfg)
    assert summary.warnings == [] and not summary.trained
    retrain = LinkageConfig(model_path=cfg.model_path, retrain=True)
    _one_warning(run_linkage(db, retrain), model="保存的模型")
    assert cfg.model_path.read_text(encoding="utf-8")  # kept as it was


def test_fit_skips_a_prior_the_recall_cannot_explain() -> None:
    """Nearly every pair found by the deterministic rules (one person on every row): Splink refuses
    the prior (ValueError on recall); the step is skipped, the others still run."""
    from hub.dedupe.linkage.chinese import prepare

    p = _person(5)
    db = _store({"population": [p] * 60})
    db.execute("CREATE TABLE src AS SELECT r.row_no::VARCHAR AS uid, name, sex, birth_date, birth_precision, "
               "village_code, phone, id_number AS id_text, id_number AS id_valid FROM hub_rows r")  # fmt: skip
    prepare(db, "SELECT * FROM src", "inp")
    fitted = fit(db, ["inp"], PERSON_SPEC)
    assert len(fitted.skipped) == 1 and "几乎覆盖全部记录对" in fitted.skipped[0]
    assert 0 < fitted.model["probability_two_random_records_match"] < 1


def test_the_default_model_is_complete_and_consistent() -> None:
    for comp in PERSON_SPEC.comparisons:
        labels = [lv["label_for_charts"] for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        table = DEFAULT_LEVELS[comp["output_column_name"]]
        assert list(table) == labels
        assert sum(m for m, _ in table.values()) == pytest.approx(1, abs=1e-5)
        assert sum(u for _, u in table.values()) == pytest.approx(1, abs=1e-5)


# -- end to end: `hub run` on a county's first, tiny upload -------------------------------------------
def _ledger(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def _row(i: int, p: dict[str, Any]) -> list[Any]:
    village = {"331099101201": "上塘村", "331099101202": "下溪村", "331099101203": "石门村"}[
        p["village_code"]
    ]
    return [i, p["name"], "男" if p["sex"] == "1" else "女", p["birth_date"].isoformat(), p["id"], village]


POP_HEADER = ["序号", "姓名", "性别", "出生日期", "公民身份号码", "村(社区)"]


@pytest.mark.parametrize("size", [5, 210])
def test_hub_run_on_one_small_first_upload_finishes(cli: Cli, tmp_path: Path, size: int) -> None:
    src = tmp_path / "upload"
    src.mkdir()
    shutil.copy(SAMPLE / "divisions.csv", src / "divisions.csv")
    people = [_person(i, VILLAGES[i % 3]) for i in range(size)]
    _ledger(src / "青山镇_人口台账_2026.csv", POP_HEADER, [_row(i + 1, p) for i, p in enumerate(people)])
    summary, code = cli.json("run", str(src), "--date", "2026-11-30", "--out", str(tmp_path / "out"))
    assert code == 0 and summary["rows"] == summary["accepted"] == size
    assert summary["persons"] == size
    written = [r for r in summary["reports"] if r["written"]]
    assert written and all(Path(r["path"]).is_file() for r in written)


def test_hub_run_merges_one_id_in_two_tiny_ledgers_and_flags_a_misused_id(cli: Cli, tmp_path: Path) -> None:
    src = tmp_path / "upload"
    src.mkdir()
    shutil.copy(SAMPLE / "divisions.csv", src / "divisions.csv")
    people = [_person(i, VILLAGES[i % 3]) for i in range(4)]
    _ledger(src / "青山镇_人口台账_2026.csv", POP_HEADER, [_row(i + 1, p) for i, p in enumerate(people)])
    other = _person(31, VILLAGES[1])  # carries person 1's number
    _ledger(
        src / "青山镇_残疾人台账_2026.csv",
        ["序号", "居民姓名", "性别", "身份证号", "残疾类别", "残疾等级", "所属村（社区）"],
        [[1, people[0]["name"], "男", people[0]["id"], "肢体", "二级", "上塘村"],
         [2, other["name"], "女" if other["sex"] == "2" else "男", people[1]["id"], "视力", "三级", "下溪村"]],
    )  # fmt: skip
    summary, code = cli.json("run", str(src), "--date", "2026-11-30", "--out", str(tmp_path / "out"))
    assert code == 0 and summary["persons"] == 4  # the same ID twice is one person
    assert any(r["written"] for r in summary["reports"])
    conflicts, _ = cli.json("conflicts")
    (misuse,) = [c for c in conflicts if c["kind"] == "号码误用"]
    assert misuse["name"] == people[1]["name"] and misuse["sources"][0]["value"] == other["name"]
