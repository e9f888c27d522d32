"""Data rows rendered in SQL (hub.export.body, hub.sheetxml): what a department opens is exactly what
the model holds — text that needs XML escaping, white space at the ends, commas and quotes in the CSV,
thousands of rows across rendering chunks, and a value GBK cannot hold refusing the file by name."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest
from export_helpers import load_rows

from hub.errors import ExportError
from hub.export import export_reports
from hub.export.body import CHUNK_ROWS
from hub.store.db import Database

TRICKY = '  东街 "3" 号, A&B <西> 巷\x07 '


def _person(i: int, **over: Any) -> dict[str, Any]:
    row = {
        "person_code": f"P{i:06d}",
        "id_number": f"3310991950{i:08d}"[:18],
        "name": f"人{i}",
        "sex": "1" if i % 2 else "2",
        "birth_date": dt.date(1950, 1, 1) + dt.timedelta(days=i % 3000),
        "ethnicity": "01",
        "township_code": "331099101",
        "village_code": "331099101001",
        "address": f"{i}号",
        "phone": "13800000000",
        "updated_at": "2026-11-01 08:00:00",
    }
    return {**row, **over}


def _export(db: Database, report: str, out: Path) -> Path:
    (result,) = export_reports(db, reports=[report], ref_date=dt.date(2026, 11, 30), out_dir=out)
    assert result.path is not None
    return result.path


def test_text_needing_escapes_reaches_the_xlsx_and_the_csv_as_typed(db: Database, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    load_rows(db, {"hub_person": [_person(1, address=TRICKY, name="A&B<王>")]})
    ws = load_workbook(_export(db, "WJ-ELDERLY65", tmp_path))["名单"]
    row = next(r for r in ws.iter_rows(min_row=4) if r[0].value == 1)
    cells = {ws.cell(3, c.column).value: c for c in row}
    assert cells["现住址"].value == TRICKY.replace("\x07", "")  # spaces kept, the control character dropped
    assert cells["姓名"].value == "A&B<王>"
    assert (
        cells["出生日期"].value == dt.datetime(1950, 1, 2) and cells["出生日期"].number_format == "yyyy-mm-dd"
    )
    assert cells["年龄"].value == 76 and cells["身份证号"].number_format == "@"
    assert {c.font.name for c in row} == {"宋体"} and all(c.border.left.style == "thin" for c in row)

    text = _export(db, "GA-SYRK", tmp_path).read_bytes().decode("gbk")
    records = list(csv.reader(text.splitlines()))
    assert records[1][records[0].index("XZZ")] == TRICKY
    assert f'"{TRICKY.replace(chr(34), chr(34) * 2)}"' in text  # quoted, quotes doubled


def test_thousands_of_rows_across_chunks_keep_order_serials_and_the_total(
    db: Database, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    n = CHUNK_ROWS * 2 + 37
    load_rows(db, {"hub_person": [_person(i) for i in range(1, n + 1)]})
    path = _export(db, "WJ-ELDERLY65", tmp_path)
    with zipfile.ZipFile(path) as z:  # every part compressed: a file small enough to send
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}
    ws = load_workbook(path)["名单"]
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    data = [r for r in rows if isinstance(r[0], int)]
    assert [r[0] for r in data] == list(range(1, n + 1))
    births = [r[5] for r in data]
    assert births == sorted(births)  # order_by: village, birth date
    assert rows[len(data)][0] == f"合计（{n}人）"
    assert ws.max_row == 3 + n + 1 + 2  # + a blank row and the sign-off row
    assert "单位负责人" in str(ws.cell(ws.max_row, 1).value)


def test_a_value_gbk_cannot_hold_refuses_the_csv_naming_line_and_value(db: Database, tmp_path: Path) -> None:
    people = [_person(i) for i in range(1, CHUNK_ROWS + 11)]
    people[CHUNK_ROWS + 4]["name"] = "王𠀀"  # a CJK Extension B character: not in GBK
    load_rows(db, {"hub_person": people})
    with pytest.raises(ExportError) as caught:
        _export(db, "GA-SYRK", tmp_path)
    assert "1 个值无法用 gbk 编码" in caught.value.message and "'王𠀀'" in caught.value.message
    assert f"第{CHUNK_ROWS + 6}行" in caught.value.message  # header line + its place in the file
    assert not list((tmp_path / "GA-SYRK").glob("*"))  # no half-written file left behind


def test_exports_running_at_once_on_one_store_each_get_their_own_township(
    db: Database, tmp_path: Path
) -> None:
    """The web server pulls reports from several threads over one connection: the rows a build
    materialises must never be another request's."""
    from concurrent.futures import ThreadPoolExecutor

    from openpyxl import load_workbook

    people = [_person(i) for i in range(1, 301)]
    people += [_person(i, township_code="331099201", village_code="331099201201") for i in range(301, 501)]
    load_rows(db, {"hub_person": people})
    towns = {"331099101": 300, "331099201": 200}

    def pull(job: int) -> tuple[str, list[str]]:
        town = list(towns)[job % 2]
        (result,) = export_reports(
            db,
            reports=["WJ-ELDERLY65"],
            townships=[town],
            ref_date=dt.date(2026, 11, 30),
            out_dir=tmp_path / str(job),
        )
        assert result.path is not None
        ws = load_workbook(result.path)["名单"]
        return town, [r[1] for r in ws.iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]

    with ThreadPoolExecutor(max_workers=4) as pool:  # two rounds of four pulls at once, both townships
        pulled = list(pool.map(pull, range(8)))
    for town, townships in pulled:
        assert len(townships) == towns[town] and set(townships) == {
            "青山镇" if town == "331099101" else "白水乡"
        }
