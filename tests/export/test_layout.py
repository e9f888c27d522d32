"""The xlsx layout of departments.md, read back with openpyxl: merges, headers, 合计 position,
text format on ID cells, dates, freeze panes, one font, print setup; the GBK CSV as bytes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from export_helpers import GOLDEN, golden_db

from hub.export import ExportResult, export_reports


def _export(name: str, out: Path) -> list[ExportResult]:
    db, case = golden_db(GOLDEN / name)
    try:
        return export_reports(
            db, reports=[name], ref_date=dt.date.fromisoformat(case["ref_date"]), out_dir=out
        )
    finally:
        db.close()


def _sheet(path: Path, name: str) -> Any:
    from openpyxl import load_workbook

    return load_workbook(path)[name]


def test_dibao_layout(tmp_path: Path) -> None:
    result = _export("MZ-DIBAO", tmp_path)[0]
    assert result.path == tmp_path / "MZ-DIBAO" / "MZ-DIBAO_331099101_青山镇_2026-11.xlsx"
    ws = _sheet(result.path, "花名册")
    merges = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:N1", "A2:N2", "A3:A4", "D3:D4", "H3:M3", "N3:N4"} <= merges  # title, meta, 2-row header
    assert {"A6:A8", "B6:B8", "D6:D8", "F6:F8", "N6:N8"} <= merges  # household cells over its 3 members
    assert "H6:H8" not in merges and "K6:K8" not in merges  # member cells are per row
    assert [c.value for c in ws[5]] == [str(i) for i in range(1, 15)]  # 栏次
    assert ws.freeze_panes == "A6"
    for ref in ("D6", "K6", "K7"):
        assert ws[ref].number_format == "@" and isinstance(ws[ref].value, str) and len(ws[ref].value) == 18
    assert ws["L6"].number_format == "yyyy-mm-dd" and ws["N6"].number_format == "0.00"
    assert ws["A10"].value == "合计（2户）" and ws["N10"].value == 1834.5
    fonts = {c.font.name for row in ws.iter_rows() for c in row if c.value is not None}
    assert fonts == {"宋体"}
    # fit to one page wide (fitToWidth defaults to 1 when absent), any number of pages tall
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth in (None, 1)
    assert ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage


def test_tj_pop_total_first_and_codes_as_text(tmp_path: Path) -> None:
    result = _export("TJ-POP", tmp_path)[0]
    ws = _sheet(result.path, "XZ-01表")
    assert [c.value for c in ws[4]] == ["甲", "乙", *map(str, range(1, 9))]
    assert [c.value for c in ws[5]][:3] == ["合计", None, 17]  # 合计 first (statistical convention)
    assert ws["B6"].value == "331099101001" and ws["B6"].number_format == "@"
    assert ws["A7"].value == "其他村（社区）"
    assert ws.freeze_panes == "A5"


def test_elderly_has_two_sheets_whose_totals_agree(tmp_path: Path) -> None:
    result = _export("WJ-ELDERLY65", tmp_path)[0]
    from openpyxl import load_workbook

    wb = load_workbook(result.path)
    assert wb.sheetnames == ["名单", "汇总"]
    names = [r for r in wb["名单"].iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    total = [r for r in wb["汇总"].iter_rows(values_only=True) if r[0] == "合计"][0]
    assert total[-2] + total[-1] == len(names) == result.records
    assert {"B3:C3", "A3:A4"} <= {str(r) for r in wb["汇总"].merged_cells.ranges}


def test_ga_syrk_gbk_bytes(tmp_path: Path) -> None:
    (result,) = _export("GA-SYRK", tmp_path)
    assert result.township is None and result.path.suffix == ".csv"
    raw = result.path.read_bytes()
    text = raw.decode("gbk")
    assert text.startswith("XM,XBDM,GMSFHM,MZDM,CSRQ,SSXQDM,XZZ,LXDH,SJLY,GXSJ\r\n")
    assert "None" not in text and "nan" not in text
    assert "蒋二,2,331099196212052029,,19621205,331099101201,,,331099101,20261102090000" in text
    assert "蒋一".encode("gbk") in raw
