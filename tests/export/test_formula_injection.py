"""No formula leaves the hub (issue 11, item 4): text that a spreadsheet would evaluate, put into a
clerk's ledger or a web form, comes out of every writer as text no spreadsheet evaluates.

CSV (department exchange files, the access log): such a text field starts with ``'``. xlsx
(department reports, annotated copies, the 一张表): a string cell with the text unchanged, never a
formula (docs/decisions.md, "No formula leaves the hub")."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from export_helpers import GOLDEN, load_rows

from hub.export import export_reports
from hub.paths import REPO_ROOT
from hub.safecell import FORMULA_TRIGGERS, csv_text, csv_text_sql, formula_like, set_text
from hub.standards.ids import id_check_char
from hub.standards.uscc import uscc_check_char
from hub.store.db import Database

PAYLOADS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil","x")',
    "+1+1",
    "-1+2",
    "@SUM(1)",
    "\t=1",
    "\r=1",
]
QINGSHAN = "331099101"
REF = dt.date(2026, 11, 30)
_FORMULA = re.compile(rb"<(?:\w+:)?f[ >/]")


def _id(i: int) -> str:
    first17 = f"3310991950010{1 + i}{120 + i:03d}"  # born 1950-01-0(1+i)
    return first17 + id_check_char(first17)


def _uscc(i: int) -> str:
    first17 = f"92331099MA{i:07d}"
    return first17 + uscc_check_char(first17)


def _sex(id18: str) -> str:
    return "男" if int(id18[16]) % 2 else "女"


def in_xlsx(text: str) -> str:
    """``text`` as a reader gets it back from a cell: XML turns a carriage return into a line feed."""
    return text.replace("\r", "\n")


def sheet_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")}


def formula_cells(path: Path) -> dict[str, list[str]]:
    """Cell references holding a formula, per sheet part."""
    import xml.etree.ElementTree as ET

    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    return {
        name: [c.get("r", "") for c in ET.fromstring(xml).iter(f"{ns}c") if c.find(f"{ns}f") is not None]
        for name, xml in sheet_parts(path).items()
    }


def assert_no_formula(path: Path) -> None:
    for name, xml in sheet_parts(path).items():
        assert not _FORMULA.search(xml), f"{path.name}: a formula in {name}"


def xlsx_strings(path: Path) -> set[str]:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    return {
        v for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)
    }


def assert_csv_safe(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    for row in rows:
        for field in row:
            assert not field.startswith(FORMULA_TRIGGERS), f"unescaped field {field!r}"
    return rows


# -- the helpers ------------------------------------------------------------------------------------


def test_the_helpers_escape_exactly_the_triggers() -> None:
    assert [csv_text(p) for p in PAYLOADS] == ["'" + p for p in PAYLOADS]
    for plain in ["张三", "330102195001011234", "2026-11-30", "'already", " =1", "", "示例县青山镇解放路1号"]:
        assert csv_text(plain) == plain and not formula_like(plain)
    assert csv_text(-2) == -2 and csv_text(None) is None  # numbers are not text
    db = Database(None, ddl=False)
    try:
        texts = [*PAYLOADS, "张三", "'x", "a=b"]
        assert [
            db.scalar(f"SELECT {csv_text_sql('t')} FROM (SELECT ?::VARCHAR AS t)", [t]) for t in texts
        ] == [csv_text(t) for t in texts]
        assert db.scalar(f"SELECT {csv_text_sql('CAST(NULL AS VARCHAR)')}") is None
    finally:
        db.close()


def test_set_text_makes_a_string_cell_never_a_formula(tmp_path: Path) -> None:
    from openpyxl import Workbook, load_workbook

    wb = Workbook()
    ws = wb.active
    for i, p in enumerate([*PAYLOADS, "#N/A", "张三"], start=1):
        set_text(ws.cell(i, 1), p)
    set_text(ws.cell(20, 1), 12.5)
    wb.save(tmp_path / "t.xlsx")
    assert_no_formula(tmp_path / "t.xlsx")
    back = load_workbook(tmp_path / "t.xlsx").active
    assert [back.cell(i, 1).value for i in range(1, 10)] == [*map(in_xlsx, PAYLOADS), "#N/A", "张三"]
    assert all(back.cell(i, 1).data_type == "s" for i in range(1, 10))
    assert [back.cell(i, 1).quotePrefix for i in range(1, 10)] == [True] * 7 + [False, False]
    assert back.cell(20, 1).value == 12.5


# -- department reports, from canonical rows that carry the payloads -------------------------------


@pytest.fixture
def payload_db() -> Iterator[Database]:
    """The golden divisions and one 65+ person per payload, the payload as name, address and phone,
    plus an ordinary person; a business per payload."""
    import yaml

    db = Database(None)
    load_rows(db, yaml.safe_load((GOLDEN / "divisions.yaml").read_text(encoding="utf-8")))
    village = db.scalar("SELECT code FROM hub_divisions WHERE level = 'village' ORDER BY code LIMIT 1")
    persons, businesses = [], []
    for i, p in enumerate([*PAYLOADS, None]):
        idn = _id(i)
        persons.append(
            {
                "person_code": f"P{i:04d}",
                "id_number": idn,
                "name": p or "李四",
                "sex": "1" if int(idn[16]) % 2 else "2",
                "birth_date": dt.date(1950, 1, 1 + i),
                "township_code": village[:9],
                "village_code": village,
                "address": p or "示例县青山镇解放路1号",
                "phone": p or "13800138000",
            }
        )
        businesses.append(
            {
                "business_code": f"B{i:04d}",
                "uscc": _uscc(i),
                "name": p or "青山镇兴旺茶叶店",
                "operator_name": p or "胡素珍",
                "address": p or "示例县青山镇解放路45号",
                "township_code": village[:9],
                "village_code": village,
                "phone": p or "15199215137",
            }
        )
    person_cols = {c for c, _ in db.columns("hub_person")}
    business_cols = {c for c, _ in db.columns("hub_business")}
    load_rows(
        db,
        {
            "hub_person": [{k: v for k, v in r.items() if k in person_cols} for r in persons],
            "hub_business": [{k: v for k, v in r.items() if k in business_cols} for r in businesses],
        },
    )
    yield db
    db.close()


def test_the_gbk_exchange_csv_escapes_every_payload(payload_db: Database, tmp_path: Path) -> None:
    (result,) = export_reports(payload_db, reports=["GA-SYRK"], ref_date=REF, out_dir=tmp_path)
    text = result.path.read_bytes().decode("gbk")
    rows = assert_csv_safe(text)
    header, data = rows[0], rows[1:]
    assert header[:3] == ["XM", "XBDM", "GMSFHM"]
    by_id = {r[header.index("GMSFHM")]: r for r in data}
    for i, p in enumerate(PAYLOADS):
        row = by_id[_id(i)]
        for key in ("XM", "XZZ", "LXDH"):
            assert row[header.index(key)] == "'" + p  # the text, one quote in front
    ordinary = by_id[_id(len(PAYLOADS))]
    assert [ordinary[header.index(k)] for k in ("XM", "XZZ", "LXDH", "CSRQ")] == [
        "李四",
        "示例县青山镇解放路1号",
        "13800138000",
        "19500108",
    ]
    assert "'" not in "".join(ordinary)


def test_department_workbooks_hold_the_payloads_as_plain_strings(
    payload_db: Database, tmp_path: Path
) -> None:
    results = export_reports(payload_db, reports=["WJ-ELDERLY65", "SJ-GTGSH"], ref_date=REF, out_dir=tmp_path)
    assert {r.report for r in results if r.written} == {"WJ-ELDERLY65", "SJ-GTGSH"}
    for r in results:
        assert_no_formula(r.path)
        strings = xlsx_strings(r.path)
        # the text as it was, never a quote added
        assert {in_xlsx(p) for p in PAYLOADS} <= strings, r.report
        assert not any(s.startswith("'") for s in strings)
    from openpyxl import load_workbook

    ws = load_workbook(next(r.path for r in results if r.report == "WJ-ELDERLY65")).worksheets[0]
    rows = [row for row in ws.iter_rows(values_only=True) if row[3] == "李四"]
    assert len(rows) == 1 and rows[0][8] == "示例县青山镇解放路1号" and rows[0][6] == 2026 - 1950
    assert isinstance(rows[0][5], dt.datetime) and rows[0][5].date() == dt.date(1950, 1, 8)


def test_numbers_stay_numbers_and_only_text_fields_are_escaped(payload_db: Database) -> None:
    from hub.export.body import Body
    from hub.export.spec import Column

    body = Body(
        payload_db,
        "SELECT 1 AS _block_no, 1 AS _pos, true AS _first, -2 AS n, CAST(-2.5 AS DECIMAL(10, 2)) AS m, "
        "-0.5::DOUBLE AS d, '-2' AS t, '+86 138' AS phone, DATE '2026-11-30' AS day, 'a,=b' AS mid",
    )
    try:
        cols = [Column(key=k, header=[k]) for k in ("n", "m", "d", "t", "phone", "day", "mid")]
        assert "".join(body.csv_chunks(cols)) == "-2,-2.50,-0.5,'-2,'+86 138,2026-11-30,\"a,=b\"\r\n"
    finally:
        body.close()


# -- through the pipeline: ledgers ingested with the Hub facade ------------------------------------


# its module fixture is built once: every test of the file on one xdist worker (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("formula_injection")


@pytest.fixture(scope="session")  # not module: xdist interleaves modules on a worker, which rebuilt it
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A workspace where 青山镇's population ledger (xlsx) and business ledger (CSV) carry the payloads
    as names, addresses and remarks, ingested, merged and exported."""
    from openpyxl import Workbook

    from hub.facade import Hub

    root = tmp_path_factory.mktemp("formula")
    wb = Workbook()
    ws = wb.active
    ws.title = "人口"
    ws.append(["村（社区）", "姓名", "公民身份号码", "性别", "出生日期", "现住址", "联系电话", "备注"])
    for i, p in enumerate([*PAYLOADS, None]):
        idn = _id(i)
        values = [
            "上塘村",
            p or "李四",
            idn,
            _sex(idn),
            f"{idn[6:10]}-{idn[10:12]}-{idn[12:14]}",
            p or "示例县青山镇解放路1号",
            "13800138000",
            p,
        ]
        for j, v in enumerate(values, start=1):
            if v is not None:
                set_text(ws.cell(i + 2, j), v)
    ws["J2"] = "=1+1"  # the clerk's own formula, beside the table
    population = root / "青山镇_人口台账_2026.xlsx"
    wb.save(population)
    business = root / "青山镇_市场主体台账_2026.csv"
    lines = ["统一社会信用代码,名称,经营者,经营地址,村居,联系电话"]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(lines[0].split(","))
    for i, p in enumerate([*PAYLOADS, None]):
        writer.writerow(
            [
                _uscc(i),
                p or "青山镇兴旺茶叶店",
                p or "胡素珍",
                p or "示例县青山镇解放路45号",
                "石门村",
                p or "15199215137",
            ]
        )
    business.write_bytes(buf.getvalue().encode("gbk"))
    hub = Hub(root / "home")
    try:
        hub.load_divisions(REPO_ROOT / "sample_data" / "divisions.csv")
        reports = hub.ingest([population, business], township=QINGSHAN)
        hub.merge()
        results = hub.export(ref_date=REF, out_dir=root / "out")
        stored = {r[0]: r[1] for r in hub.db.rows("SELECT id_number, address FROM hub_person")}
        yield {
            "hub": hub,
            "root": root,
            "reports": reports,
            "results": results,
            "stored": stored,
            "population": population,
        }
    finally:
        hub.close()


def _stored_payloads(pipeline: dict[str, Any]) -> list[str]:
    """The payloads as the store holds them (ingest trims white space: ``\\t=1`` is ``=1`` there)."""
    return [pipeline["stored"][_id(i)] for i in range(len(PAYLOADS))]


def test_the_pipeline_keeps_the_payloads_as_text(pipeline: dict[str, Any]) -> None:
    stored = _stored_payloads(pipeline)
    assert stored[:5] == PAYLOADS[:5] and all(formula_like(s) for s in stored)
    assert pipeline["stored"][_id(len(PAYLOADS))] == "示例县青山镇解放路1号"


def test_every_report_of_the_pipeline_is_formula_free(pipeline: dict[str, Any]) -> None:
    stored = set(_stored_payloads(pipeline))
    written = [r for r in pipeline["results"] if r.written]
    assert {"GA-SYRK", "WJ-ELDERLY65", "SJ-GTGSH", "TJ-POP"} <= {r.report for r in written}
    for r in written:
        if r.path.suffix == ".csv":
            rows = assert_csv_safe(r.path.read_bytes().decode("gbk"))
            fields = {f for row in rows for f in row}
            assert {"'" + s for s in stored} <= fields
            assert "示例县青山镇解放路1号" in fields and "李四" in fields
        else:
            assert_no_formula(r.path)
            if r.report in ("WJ-ELDERLY65", "SJ-GTGSH"):
                strings = xlsx_strings(r.path)
                assert stored <= strings and not any(s.startswith("'") for s in strings)


def test_annotated_copies_quote_the_payloads_as_strings(pipeline: dict[str, Any]) -> None:
    from openpyxl import load_workbook

    copies = [Path(r.annotated) for r in pipeline["reports"] if r.annotated]
    assert len(copies) == 2
    for path in copies:
        source = pipeline["population"] if path.name.startswith("青山镇_人口") else None
        formulas = formula_cells(path)
        if source is not None:
            # the clerk's own formula stays in the clerk's sheet; nothing the hub wrote is one
            assert formulas["xl/worksheets/sheet1.xml"] == formula_cells(source)["xl/worksheets/sheet1.xml"]
            assert formulas["xl/worksheets/sheet1.xml"] == ["J2"]
            assert not any(cells for part, cells in formulas.items() if part != "xl/worksheets/sheet1.xml")
        else:
            assert_no_formula(path)
        wb = load_workbook(path)
        summary = wb["问题汇总"]
        quoted = [row[3] for row in summary.iter_rows(min_row=2, values_only=True) if row[3] is not None]
        assert all(isinstance(v, str) for v in quoted)
        for row in summary.iter_rows(min_row=2):
            cell = row[3]
            if isinstance(cell.value, str) and formula_like(cell.value):
                assert cell.data_type == "s"
        data = wb.worksheets[0]
        assert set(PAYLOADS[:5]) <= {
            v for row in data.iter_rows(values_only=True) for v in row if isinstance(v, str)
        }


def test_the_template_holds_the_payloads_as_strings(pipeline: dict[str, Any]) -> None:
    from openpyxl import load_workbook

    from hub.serve.template import build_template

    path = build_template(pipeline["hub"], QINGSHAN, pipeline["root"] / "一张表.xlsx")
    assert_no_formula(path)
    wb = load_workbook(path)
    ws = wb["人口"]
    headers = [c.value for c in ws[2]]
    by_id = {r[headers.index("公民身份号码")].value: r for r in ws.iter_rows(min_row=3) if r[2].value}
    for i, text in enumerate(_stored_payloads(pipeline)):
        cell = by_id[_id(i)][headers.index("现住址")]
        assert cell.value == text and cell.data_type == "s" and cell.quotePrefix
    ordinary = by_id[_id(len(PAYLOADS))]
    assert ordinary[headers.index("现住址")].value == "示例县青山镇解放路1号"
    assert ordinary[headers.index("姓名")].value == "李四" and not ordinary[headers.index("姓名")].quotePrefix
    assert set(_stored_payloads(pipeline)) <= xlsx_strings(path)


# -- the access log ---------------------------------------------------------------------------------


def test_the_access_log_csv_escapes_what_users_typed(tmp_path: Path) -> None:
    from hub.facade import Hub
    from hub.serve.accounts import User
    from hub.serve.reports import access_log, access_log_csv, log_access

    hub = Hub(tmp_path / "home")
    try:
        user = User("mz_user", "department", department="民政")
        for i, p in enumerate([*PAYLOADS, "核对2026年11月低保对象"]):
            log_access(
                hub,
                user,
                channel="web",
                report="MZ-DIBAO",
                township=QINGSHAN,
                ref=REF,
                purpose=p,
                fmt="xlsx",
                records=i,
                sha256="ab" * 32,
            )
        data = access_log_csv(access_log(hub, limit=None))
    finally:
        hub.close()
    text = data.decode("utf-8-sig")
    rows = assert_csv_safe(text)
    purposes = [r[9] for r in rows[1:]]
    assert sorted(purposes) == sorted(["'" + p for p in PAYLOADS] + ["核对2026年11月低保对象"])
    assert [r[11] for r in rows[1:]] == [str(i) for i in range(len(PAYLOADS), -1, -1)]
    assert {r[2] for r in rows[1:]} == {"mz_user"} and {r[7] for r in rows[1:]} == {QINGSHAN}
