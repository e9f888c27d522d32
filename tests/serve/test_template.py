"""The 一张表 workbook: pre-filled, drop-downs, text ID columns, instructions, and it ingests back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from hub.serve.template import build_template
from tests.serve.conftest import QINGSHAN, login


def test_template_is_prefilled_with_dropdowns_and_text_ids(loaded: Any, tmp_path: Path) -> None:
    hub = loaded.state.hub_state.hub
    path = build_template(hub, QINGSHAN, tmp_path / "t.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames[0] == "填表说明" and "人口" in wb.sheetnames and wb["代码表"].sheet_state == "hidden"
    ws = wb["人口"]
    headers = [c.value for c in ws[2]]
    assert headers[:3] == ["村（社区）", "姓名", "公民身份号码"]
    persons = hub.db.scalar("SELECT count(*) FROM hub_person WHERE township_code = ?", [QINGSHAN])
    data = [r for r in ws.iter_rows(min_row=3, values_only=True) if any(v is not None for v in r)]
    assert len(data) == persons > 0
    ids = {r[2] for r in data}
    assert ids == {
        r[0] for r in hub.db.rows("SELECT id_number FROM hub_person WHERE township_code = ?", [QINGSHAN])
    }
    assert all(isinstance(v, str) for v in ids) and ws.cell(3, 3).number_format == "@"
    assert ws.cell(3 + len(data) + 10, 3).number_format == "@"  # empty rows below stay text too
    assert {r[3] for r in data} <= {"男", "女", "未知的性别", "未说明的性别", None}
    lists = {
        str(dv.sqref).split(":")[0].rstrip("0123456789"): dv.formula1
        for dv in ws.data_validations.dataValidation
    }
    assert set(lists) == {"A", "D", "F", "G", "J"}  # village, sex, ethnicity, marital status, person status
    codes = {col[0].value: [c.value for c in col[1:] if c.value] for col in wb["代码表"].iter_cols()}
    assert codes["__village"] == ["青山社区", "上塘村", "下溪村", "石门村", "竹坞村"]
    assert codes["sex"][:3] == ["未知的性别", "男", "女"]
    guide = " ".join(str(c.value) for c in wb["填表说明"]["A"] if c.value)
    assert "下拉列表" in guide and "文本格式" in guide and "青山镇" in guide


def test_template_round_trip_ingests_as_ordinary_ledgers(loaded: Any, tmp_path: Path) -> None:
    hub = loaded.state.hub_state.hub
    path = build_template(hub, QINGSHAN, tmp_path / "青山镇_一张表.xlsx")
    reports = hub.ingest([path], township=QINGSHAN, annotate=False)
    assert reports[0].status == "ingested", reports[0].message
    kinds = set((reports[0].kind or "").split(","))
    assert {"population", "disability", "dibao"} <= kinds
    assert reports[0].rows > 0


def test_template_download_is_for_the_clerks_township(loaded: Any) -> None:
    r = login(loaded, "qs_clerk").get("/clerk/template")
    assert (
        r.status_code == 200
        and r.content[:2] == b"PK"
        and "%E4%B8%80%E5%BC%A0%E8%A1%A8" in r.headers["content-disposition"]
    )
    r2 = login(loaded, "cg_clerk").get("/clerk/template")
    import io

    assert "城关街道" in str(load_workbook(io.BytesIO(r2.content))["填表说明"]["A1"].value)
