from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from hub.errors import IngestError
from hub.ingest import Divisions, stage_file
from hub.model import Schema


def dibao_workbook(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "城关村"
    ws["A1"] = "2026年低保对象花名册"
    ws.merge_cells("A1:L1")
    ws["A2"], ws["G2"] = "填报单位：城关镇人民政府（盖章）", "填报日期：2026年3月1日"
    ws["A3"] = "单位：人、元"
    ws["A4"], ws["B4"], ws["D4"] = "序号", "户主情况", "家庭成员情况"
    ws["H4"], ws["I4"], ws["J4"], ws["L4"] = "保障类别", "家庭人口", "月保障金额（元）", "备注"
    for rng in ("A4:A5", "B4:C4", "D4:G4", "H4:H5", "I4:I5", "J4:J5", "L4:L5"):
        ws.merge_cells(rng)
    for col, text in zip(
        "BCDEFG", ["姓名", "身份证号", "姓名", "身份证号码", "与户主关系", "性别"], strict=True
    ):
        ws[f"{col}5"] = text
    for col, text in zip(
        "ABCDEFGHIJL", ["甲", "乙", "1", "2", "3", "4", "5", "6", "7", "8", "9"], strict=True
    ):
        ws[f"{col}6"] = text
    members = {
        7: ("1", "张三", 330727195001011234, "张三", 330727195001011234, "户主", "男", "城市", 3, 1200),
        8: ("1-2", None, None, "李四", "330727195201011234", "配偶", "女", None, None, None),
        9: ("1-3", None, None, "张五", "33072719800101123X", "子", "男", None, None, None),
        10: ("2", "王六", "330727196001011234", "王六", "330727196001011234", "户主", "男", "农村", 2, 800),
        11: ("2-2", None, None, "赵七", "330727196201011234", "配偶", "女", "同上", None, "〃"),
        13: ("小计", None, None, None, None, None, None, None, 5, 2000),
        14: ("3", "隐藏", "1", "隐藏", "1", "户主", "男", "城市", 1, 1),
        15: ("3", "孙八", "330727197001011234", "孙八", "330727197001011234", "户主", "男", "城市", 1, 500),
        16: ("合计", None, None, None, None, None, None, None, 6, 2500),
        17: ("其中：女", None, None, None, None, None, None, None, 2, None),
        18: ("填表说明：本表由村填报", None, None, None, None, None, None, None, None, None),
        19: ("制表人：张三", None, None, "审核人：李四", None, None, None, None, None, None),
        20: ("4", "周九", "330727197101011234", "周九", "330727197101011234", "户主", "男", "城市", 1, 500),
    }
    for row, values in members.items():
        for col, value in zip("ABCDEFGHIJ", values, strict=True):
            if value is not None:
                ws[f"{col}{row}"] = value
    for col in "BCHIJ":
        ws.merge_cells(f"{col}7:{col}9")
    ws.row_dimensions[14].hidden = True
    wb.create_sheet("空表")
    wb.create_sheet("说明")["B2"] = "本表说明：请按要求填写"
    wb.save(path)


def test_dibao_roster_full_layout(tmp: Path, schema: Schema, divisions: Divisions) -> None:
    path = tmp / "低保.xlsx"
    dibao_workbook(path)
    staged = stage_file(path, schema, divisions)
    assert len(staged.sha256) == 64
    assert staged.skipped_sheets == [("空表", "空工作表"), ("说明", "无法识别表头")]
    (sheet,) = staged.sheets
    assert (sheet.kind, sheet.township_code, sheet.title) == ("dibao", "330727101", "2026年低保对象花名册")
    assert sheet.header_rows == [4, 5, 6]
    cols = {c.col_index: (c.header, c.field) for c in sheet.columns}
    assert cols[1] == ("序号", None)
    assert cols[2] == ("户主情况/姓名", "head_name")
    assert cols[3] == ("户主情况/身份证号", "head_id_number")
    assert cols[4] == ("家庭成员情况/姓名", "name")
    assert cols[5] == ("家庭成员情况/身份证号码", "id_number")
    assert cols[10] == ("月保障金额（元）", "dibao_amount")
    assert cols[12] == ("备注", "remark")
    assert 11 not in cols  # empty spacer column
    data = sheet.data.to_pylist()
    assert [r["_row"] for r in data] == [7, 8, 9, 10, 11, 14, 15]  # row 14 is hidden, and still data
    assert {r["_sheet"] for r in data} == {"城关村"}
    assert [r["head_name"] for r in data] == ["张三", "张三", "张三", "王六", "王六", "隐藏", "孙八"]
    assert data[0]["head_id_number"] == "3.30727E+17"  # stored as a number: precision visibly lost
    assert [r["dibao_category"] for r in data] == ["城市", "城市", "城市", "农村", "农村", "城市", "城市"]
    assert [r["dibao_amount"] for r in data] == ["1200", "1200", "1200", "800", "800", "1", "500"]
    assert [r["relation"] for r in data][:3] == ["户主", "配偶", "子"]
    assert sheet.header_of("dibao_amount") == "月保障金额（元）"


def population_csv(path: Path, village_second: str | None, title: str = "") -> None:
    lines = ([title] if title else []) + [
        "序号,姓名,公民身份号码,性别,民族,所属村（社区）,现住址,联系电话",
        "1,张三,330727199001011234,男,汉族,城关村,城关村1号,13800000000",
        f"2,李四,330727199001021234,女,汉族,{village_second or ''},同上,13800000001",
        "3,王五,330727199001031234,男,〃,新渥村,新渥村2号,13800000002",
    ]
    path.write_bytes("\n".join(lines).encode("gbk"))


def test_population_csv_keeps_empty_village_and_infers_township(
    tmp: Path, schema: Schema, divisions: Divisions
) -> None:
    path = tmp / "人口.csv"
    population_csv(path, None)
    (sheet,) = stage_file(path, schema, divisions).sheets
    assert (sheet.kind, sheet.township_code) == ("population", "330727101")
    data = sheet.data.to_pylist()
    assert [r["_row"] for r in data] == [2, 3, 4]
    assert data[1]["village"] is None  # population roster: an empty village stays empty
    assert data[1]["address"] == "城关村1号"  # a ditto mark is filled everywhere
    assert data[2]["ethnicity"] == "汉族"


def test_township_from_title_filename_and_option(tmp: Path, schema: Schema, divisions: Divisions) -> None:
    path = tmp / "双溪乡人口.csv"
    population_csv(path, "x", title="城关镇实有人口表")
    assert stage_file(path, schema, divisions).sheets[0].township_code == "330727101"
    path2 = tmp / "双溪乡人口台账.csv"
    population_csv(path2, "x")
    assert stage_file(path2, schema, divisions).sheets[0].township_code == "330727201"
    assert stage_file(path2, schema, divisions, township="330727101").sheets[0].township_code == "330727101"
    assert stage_file(path2, schema, divisions, township="城关").sheets[0].township_code == "330727101"


def test_township_unknown_or_ambiguous(tmp: Path, schema: Schema, divisions: Divisions) -> None:
    path = tmp / "人口.csv"
    path.write_text("姓名,身份证号,村\n张三,1,不存在村\n", encoding="utf-8")
    with pytest.raises(IngestError, match="--township"):
        stage_file(path, schema, divisions)
    path2 = tmp / "城关镇和双溪乡.csv"
    path2.write_text("姓名,身份证号\n张三,1\n", encoding="utf-8")
    with pytest.raises(IngestError, match="多个乡镇"):
        stage_file(path2, schema, divisions)
    with pytest.raises(IngestError, match="找不到乡镇"):
        stage_file(path2, schema, divisions, township="火星镇")


def test_no_header_anywhere(tmp: Path, schema: Schema, divisions: Divisions) -> None:
    path = tmp / "x.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(IngestError) as info:
        stage_file(path, schema, divisions, township="330727101")
    assert info.value.file == "x.csv" and "公民身份号码" in (info.value.hint or "")


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        (
            ["姓名", "身份证号", "性别", "出生日期", "民族", "住址", "电话", "村", "残疾类别", "残疾等级"],
            "disability",
        ),
        (["姓名", "身份证号", "户主姓名", "与户主关系", "性别", "民族", "住址"], "population"),
        (["户主姓名", "姓名", "身份证号", "与户主关系", "性别", "民族", "住址", "电话", "保障金额"], "dibao"),
        (["统一社会信用代码", "名称", "经营者", "经营地址", "联系电话"], "business"),
    ],
)
def test_kind(tmp: Path, schema: Schema, divisions: Divisions, headers: list[str], kind: str) -> None:
    path = tmp / "k.csv"
    path.write_text(",".join(headers) + "\n" + ",".join("x" for _ in headers) + "\n", encoding="utf-8")
    assert stage_file(path, schema, divisions, township="城关镇").sheets[0].kind == kind


def test_duplicate_and_unknown_columns(tmp: Path, schema: Schema, divisions: Divisions) -> None:
    path = tmp / "d.csv"
    path.write_text("姓名,身份证号,证件号码,奇怪的列\n张三,1,2,3\n", encoding="utf-8")
    sheet = stage_file(path, schema, divisions, township="城关镇").sheets[0]
    assert [(c.header, c.field) for c in sheet.columns] == [
        ("姓名", "name"),
        ("身份证号", "id_number"),
        ("证件号码", None),
        ("奇怪的列", None),
    ]
    assert sheet.data.column_names == ["_sheet", "_row", "name", "id_number"]
