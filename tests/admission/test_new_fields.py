"""A genuinely new field reaches the clerk and flows back in (docs/admission.md, "New fields").

Through the CLI, as the people involved would do it: a department's draft with two columns the county
does not hold is admitted; the fields join the model (schemas/extensions.yaml); the township's 一张表
(`hub template`) carries them as columns; a clerk fills them in the workbook (openpyxl, as Excel would)
and uploads it; `hub run` ingests, merges and exports; the admitted report's xlsx has the values.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
import yaml

from tests.admission.conftest import write_draft
from tests.conftest import Cli

INSURED = "是否参加城乡居民医保"
DOCTOR = "签约家庭医生"
COLUMNS = ["序号", "村（社区）", "姓名", "身份证号", {"label": INSURED, "note": "当年度参保"}, DOCTOR, "备注"]


def _admit(cli: Cli, seeded: Path) -> dict:
    draft = write_draft(seeded / "d.yaml", "城乡居民医保参保和家庭医生签约情况表", COLUMNS, period="annual")
    review, code = cli.json("admission", "submit", draft, "--dept", "医保", "--by", "yb_wang")
    assert code == 0
    assert [c["header"] for c in review["columns"] if c["kind"] == "new"] == [INSURED, DOCTOR]
    decided, code = cli.json(
        "admission", "decide", str(review["draft_id"]), "admit", "--reason", "参保核查", "--by", "admin"
    )
    assert code == 0 and decided["status"] == "admitted", decided
    return decided


def _table(path: Path) -> tuple[list[str], list[list[object]]]:
    ws = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    top = next(i for i, r in enumerate(rows) if r and r[0] == "序号")
    return [str(h) for h in rows[top]], [r for r in rows[top + 1 :] if isinstance(r[0], int)]


@pytest.mark.slow
def test_an_admitted_field_goes_down_in_the_one_table_and_comes_back_in_the_report(seeded: Path) -> None:
    cli = Cli()
    decided = _admit(cli, seeded)
    report_id = decided["report_id"]
    keys = decided["new_fields"]
    assert len(keys) == 2
    # the model holds them: label, the report, the department's 口径; a 是否 field is coded 是/否
    ext = yaml.safe_load((seeded / "schemas" / "extensions.yaml").read_text(encoding="utf-8"))["fields"]
    assert [ext[k]["label"] for k in keys] == [INSURED, DOCTOR]
    assert ext[keys[0]]["report"] == report_id and ext[keys[0]]["note"] == "当年度参保"
    assert ext[keys[0]]["codelist"] == "bool" and ext[keys[1]]["type"] == "text"
    spec = yaml.safe_load((seeded / "mappings" / f"{report_id}.yaml").read_text(encoding="utf-8"))
    exprs = {c["header"][0]: c.get("expr") for c in spec["sheets"][0]["columns"]}
    assert exprs[INSURED] == f"px.{keys[0]}" and exprs[DOCTOR] == f"px.{keys[1]}"
    assert cli("mappings", "check").exit_code == 0

    # the 一张表 goes down with the two columns, empty
    sheet = seeded / "up" / "一张表_青山镇.xlsx"
    assert cli("template", "--township", "青山镇", "--out", sheet).exit_code == 0
    wb = openpyxl.load_workbook(sheet)
    ws = wb["人口"]
    heads = [c.value for c in ws[2]]
    assert heads[-2:] == [INSURED, DOCTOR]
    ids = heads.index("公民身份号码") + 1
    col_ins, col_doc = heads.index(INSURED) + 1, heads.index(DOCTOR) + 1
    assert all(ws.cell(r, col_ins).value is None for r in range(3, ws.max_row + 1))
    # the clerk answers for the first five living residents (one with a value off the list) and saves
    status = heads.index("人员状态") + 1
    living = [r for r in range(3, ws.max_row + 1) if ws.cell(r, status).value == "正常"][:5]
    filled = {}
    answers = ["是", "否", "√", "是", "不清楚"]
    for r, answer in zip(living, answers, strict=True):
        pid = ws.cell(r, ids).value
        ws.cell(r, col_ins, answer)
        ws.cell(r, col_doc, f"张医生{r}")
        filled[pid] = (r, answer)
    wb.save(sheet)

    ran, code = cli.json("run", seeded / "up", "--out", seeded / "out")
    assert code == 0, ran
    upload = next(f for f in ran["file_reports"] if f["file"].endswith("一张表_青山镇.xlsx"))
    assert upload["status"] == "ingested" and upload["rejected"] == 0, upload["errors"][:3]
    assert {"sheet": "代码表", "reason": "一张表的下拉选项，不导入"} in upload["skipped_sheets"]
    # the value off the list is a warning on its cell, not a rejected row
    warned = [f for f in upload["warnings"] if f["code"] == "extension-code-unknown"]
    assert len(warned) == 1 and "不清楚" in warned[0]["message"] and INSURED in warned[0]["message"]

    written = next((seeded / "out" / report_id).glob("*331099101*.xlsx"))
    heads, rows = _table(written)
    pid, ins, doc = heads.index("身份证号"), heads.index(INSURED), heads.index(DOCTOR)
    got = {r[pid]: (r[ins], r[doc]) for r in rows if r[ins] is not None or r[doc] is not None}
    expected = {p: ({"是": "是", "否": "否", "√": "是"}.get(a), f"张医生{r}") for p, (r, a) in filled.items()}
    assert got == expected
    # the next 一张表 comes down pre-filled with what the clerk typed
    again = seeded / "again.xlsx"
    assert cli("template", "--township", "青山镇", "--out", again).exit_code == 0
    ws2 = openpyxl.load_workbook(again)["人口"]
    back = {ws2.cell(r, ids).value: ws2.cell(r, col_ins).value for r in range(3, ws2.max_row + 1)}
    assert {p: back[p] for p in filled} == {p: e[0] for p, e in expected.items()}
    json.dumps(ran, default=str)
    # the upload withdrawn, its answers go with it
    sid = str(upload["submission_id"])
    assert cli("withdraw", sid, "--reason", "误传", "--by", "admin").exit_code == 0
    out = seeded / "after"
    assert cli("export", "--report", report_id, "--township", "青山镇", "--out", out).exit_code == 0
    heads, rows = _table(next((out / report_id).glob("*.xlsx")))
    assert not [r for r in rows if r[heads.index(INSURED)] is not None or r[heads.index(DOCTOR)] is not None]


def _ledger(path: Path, heads: list[str], rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["青山镇人口台账"])
    ws.append(heads)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_a_clerks_ledger_fills_an_admitted_field_and_the_report_carries_it(bare: Path) -> None:
    """The fast path of the same flow: a ledger the clerk keeps herself (not the 一张表), with the new
    column spelt as the department wrote it, is recognised, checked and merged, and the admitted
    report has the values; a second upload changes one answer and the latest wins."""
    from hub.standards.ids import id_check_char

    cli = Cli()
    decided = _admit(cli, bare)
    report_id = decided["report_id"]
    # the 一张表 of an empty township already has the columns to fill
    blank = bare / "blank.xlsx"
    assert cli("template", "--township", "青山镇", "--out", blank).exit_code == 0
    book = openpyxl.load_workbook(blank)
    assert [c.value for c in book["人口"][2]][-2:] == [INSURED, DOCTOR]
    guide = " ".join(str(c.value) for c in book["填表说明"]["A"] if c.value)
    assert f"{INSURED}（{report_id}）" in guide
    # the clerk's own roster, headed as the department wrote it: placed on the admitted fields at ingest
    ids = [b + id_check_char(b) for b in ("33109919611017709", "33109919480229609", "33109919750312411")]
    heads = ["姓名", "身份证号", "性别", "村（社区）", "是否参加城乡居民医保", "签约家庭医生"]
    rows = [
        ["刘国强", ids[0], "男", "上塘村", "是", "李医生"],
        ["陈秀英", ids[1], "女", "上塘村", "否", None],
        ["王建华", ids[2], "男", "上塘村", None, "赵医生"],
    ]
    first = _ledger(bare / "青山镇_人口台账.xlsx", heads, rows)
    got, code = cli.json("ingest", first, "--township", "青山镇", "--no-annotate", "--no-link")
    assert code == 0 and got[0]["accepted"] == 3, got

    def report() -> dict[str, tuple[object, object]]:
        out = bare / "out"
        assert cli("export", "--report", report_id, "--township", "青山镇", "--out", out).exit_code == 0
        heads_, rows_ = _table(next((out / report_id).glob("*.xlsx")))
        pid, ins, doc = heads_.index("身份证号"), heads_.index(INSURED), heads_.index(DOCTOR)
        return {r[pid]: (r[ins], r[doc]) for r in rows_}

    assert report() == {ids[0]: ("是", "李医生"), ids[1]: ("否", None), ids[2]: (None, "赵医生")}
    # next month: 陈秀英 has joined; a later roster's answer replaces the earlier one
    rows[1][4] = "是"
    second = _ledger(bare / "青山镇_人口台账_12月.xlsx", heads, rows)
    _, code = cli.json("ingest", second, "--township", "青山镇", "--no-annotate", "--no-link")
    assert code == 0
    assert report()[ids[1]] == ("是", None)
