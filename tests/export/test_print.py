"""What a department prints, and what it can rely on: every workbook prints with page numbers, a
print area and the header rows repeated, and ends with its sign-off row; the same data gives the same
bytes (and hash); a value the hub flagged reaches the report marked, never silently."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from export_helpers import GOLDEN, golden_db

from hub.export import export_reports, list_reports
from hub.export.spec import DEFAULT_SIGNOFF
from hub.export.write_xlsx import FLAG_FILL, PAGE_FOOTER

XLSX = sorted(r.id for r in list_reports() if r.format == "xlsx")
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def _export(name: str, out: Path) -> list[Any]:
    db, case = golden_db(GOLDEN / name)
    try:
        return export_reports(
            db, reports=[name], ref_date=dt.date.fromisoformat(case["ref_date"]), out_dir=out
        )
    finally:
        db.close()


def _signoff_labels(name: str) -> list[str]:
    from hub.export.catalog import load_spec_text

    spec, _ = load_spec_text((GOLDEN.parent.parent / "mappings" / f"{name}.yaml").read_text("utf-8"), name)
    assert spec is not None
    return spec.signoff


def test_six_workbooks_and_the_exchange_file() -> None:
    assert len(XLSX) == 6 and "GA-SYRK" not in XLSX


@pytest.mark.parametrize("name", XLSX)
def test_every_sheet_prints_with_page_numbers_titles_area_and_signoff(name: str, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    results = _export(name, tmp_path)
    assert results and all(r.path is not None for r in results)
    labels = _signoff_labels(name)
    assert labels and ("报出日期" in labels)
    for r in results:
        wb = load_workbook(r.path)
        for ws in wb.worksheets:
            assert ws.oddFooter.center.text == PAGE_FOOTER[2:]  # 第 &P 页 共 &N 页
            assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
            assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
            assert ws.print_title_rows and ws.print_title_rows.startswith("$3:")
            area = ws.print_area[0] if isinstance(ws.print_area, list) else ws.print_area
            assert area and area.endswith(f"${ws.max_row}")  # down to the sign-off row
            last = [str(v) for v in next(ws.iter_rows(min_row=ws.max_row, values_only=True)) if v]
            assert [v.split("：")[0] for v in last] == labels, last
            assert any("年" in v and "月" in v and "日" in v for v in last if v.startswith("报出日期"))


def test_the_default_signoff_is_the_statistical_one() -> None:
    assert list(DEFAULT_SIGNOFF) == ["单位负责人", "统计负责人", "填表人", "报出日期"]
    assert {n for n in XLSX if _signoff_labels(n) == list(DEFAULT_SIGNOFF)} == set(XLSX) - {"MZ-DIBAO"}
    assert _signoff_labels("MZ-DIBAO") == ["制表人", "审核人", "负责人", "报出日期"]  # departments.md


@pytest.mark.parametrize("name", ["MZ-DIBAO", "GA-SYRK"])
def test_the_same_data_gives_the_same_bytes(name: str, tmp_path: Path) -> None:
    import time

    first = _export(name, tmp_path / "a")
    time.sleep(1.1)  # a writer stamping the time of writing would differ now
    second = _export(name, tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        assert a.path.name == b.path.name
        assert (
            hashlib.sha256(a.path.read_bytes()).hexdigest() == hashlib.sha256(b.path.read_bytes()).hexdigest()
        )


def test_the_document_is_dated_by_the_report_not_the_clock(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    result = _export("SJ-GTGSH", tmp_path)[0]
    props = load_workbook(result.path).properties
    _, case = golden_db(GOLDEN / "SJ-GTGSH")
    assert props.created == dt.datetime.combine(dt.date.fromisoformat(case["ref_date"]), dt.time())
    assert props.creator == "一表通 Hub"


@pytest.fixture(scope="module")
def flagged_store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """城关街道's population ledger ingested: some of its phone numbers fail the check (a warning:
    the row is accepted, the number kept as written)."""
    from hub.facade import Hub

    home = tmp_path_factory.mktemp("flagged")
    hub = Hub(home)
    hub.load_divisions(SAMPLE / "divisions.csv")
    hub.ingest([SAMPLE / "城关街道_人口台账_2026.xlsx"], township="331099001", link=False, annotate=False)
    hub.merge()
    yield hub
    hub.close()


# the two tests of the store on one xdist worker (--dist loadgroup), so that it is built once
FLAGGED = pytest.mark.xdist_group("export_flagged")


@FLAGGED
def test_a_flagged_phone_reaches_the_report_marked(flagged_store: Any, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    hub = flagged_store
    bad = {
        str(v)
        for (v,) in hub.db.rows(
            "SELECT f.value FROM hub_findings f WHERE f.code = 'phone-invalid' AND f.field = 'phone'"
        )
    }
    assert bad
    (result,) = hub.export(reports=["WJ-ELDERLY65"], ref_date=dt.date(2026, 11, 30), out_dir=tmp_path)
    wb = load_workbook(result.path)
    ws = wb["名单"]
    phone_col = next(c.column for c in ws[3] if c.value == "联系电话")
    marked, unmarked = [], []
    for (cell,) in ws.iter_rows(min_row=4, min_col=phone_col, max_col=phone_col):
        filled = (cell.fill.fgColor.rgb or "").upper().endswith(FLAG_FILL.lstrip("#").upper())
        if cell.value in bad:
            marked.append(filled and cell.comment is not None and "核实" in cell.comment.text)
        elif cell.value:
            unmarked.append(filled or cell.comment is not None)
    assert marked and all(marked), "every flagged phone that reaches the list is filled and commented"
    assert unmarked and not any(unmarked), "a valid phone is not marked"
    assert "说明" in wb.sheetnames
    note = " ".join(str(v) for row in wb["说明"].iter_rows(values_only=True) for v in row if v)
    assert "未通过" in note and "联系电话" in note and str(len(marked)) in note


@FLAGGED
def test_a_corrected_value_is_not_flagged(flagged_store: Any) -> None:
    """The view flags only values kept as written: a sex or birth date the hub took from the ID
    (sex-id-mismatch, birthdate-id-mismatch) is not 'invalid' in the report."""
    rows = flagged_store.db.rows("SELECT DISTINCT code FROM flagged_value")
    assert {"phone-invalid"} <= {r[0] for r in rows}
    assert not {"sex-id-mismatch", "birthdate-id-mismatch", "name-note-removed"} & {r[0] for r in rows}


def _libreoffice() -> str | None:
    found = shutil.which("libreoffice") or shutil.which("soffice")
    if found is None and shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", "libreoffice-calc", "poppler-utils"],
            capture_output=True,
            timeout=900,
            check=False,
        )
        found = shutil.which("libreoffice") or shutil.which("soffice")
    return found


@pytest.mark.slow
def test_libreoffice_prints_page_numbers_and_the_signoff(tmp_path: Path) -> None:
    office = _libreoffice()
    if office is None:
        pytest.skip("LibreOffice is not installed")
    result = _export("TJ-POP", tmp_path)[0]
    subprocess.run(
        [office, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(result.path)],
        capture_output=True,
        timeout=300,
        check=True,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    pdf = tmp_path / f"{result.path.stem}.pdf"
    assert pdf.is_file() and pdf.read_bytes()[:4] == b"%PDF"
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed: the PDF was written, its text not read")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    import re

    assert re.search(r"第\s*1\s*页\s*共\s*1\s*页", text), text
    assert all(label in text for label in DEFAULT_SIGNOFF)
