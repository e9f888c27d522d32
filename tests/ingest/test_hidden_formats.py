"""Hidden rows and columns of ``.xls``, ``.ods`` and ``.xlsb`` are found as those of ``.xlsx`` are
(issue 11).

``tests/data/hidden/hidden.xlsx`` (openpyxl: sheet 人口 with row 3 and column C hidden, sheet 说明
with row 1 hidden) was saved as ``.xls`` and ``.ods`` by LibreOffice 7 (``soffice --convert-to``).
No program at hand writes ``.xlsb``, so the ``.xlsb`` cases are calamine's own test workbooks with
the hidden flags set in their records ([MS-XLSB] ``BrtRowHdr`` fDyZero, ``BrtColInfo`` fHidden);
LibreOffice, reading them, agrees which rows and columns are hidden (the slow test)."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest

from hub.ingest.readers import read_sheets
from hub.paths import REPO_ROOT

DATA = REPO_ROOT / "tests" / "data" / "hidden"
FOREIGN = REPO_ROOT / "tests" / "data" / "foreign_workbooks"


@pytest.mark.parametrize("suffix", ["xls", "ods"])
def test_hidden_rows_and_columns_as_in_xlsx(suffix: str) -> None:
    expected = {s.name: (s.hidden_rows, s.hidden_cols) for s in read_sheets(DATA / "hidden.xlsx")}
    assert expected == {"人口": ({3}, {3}), "说明": ({1}, set())}
    sheets = read_sheets(DATA / f"hidden.{suffix}")
    assert {s.name: (s.hidden_rows, s.hidden_cols) for s in sheets} == expected
    # the hidden row is still read (a hidden row of data is data); only the layout treats it apart
    assert sheets[0].table.num_rows == 5


def _records(data: bytes) -> list[tuple[int, int]]:
    """(type, body offset) of each record of an xlsb part: type and size are 7-bit varints."""
    out, pos = [], 0
    while pos < len(data):
        typ = data[pos]
        pos += 1
        if typ & 0x80:
            typ, pos = (typ & 0x7F) | ((data[pos] & 0x7F) << 7), pos + 1
        size = shift = 0
        while True:
            byte, pos = data[pos], pos + 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        out.append((typ, pos))
        pos += size
    return out


def hide_in_xlsb(src: Path, dst: Path, member: str, rows: set[int], columns: bool = False) -> Path:
    """A copy of ``src`` with ``rows`` (1-based) of ``member`` hidden (``BrtRowHdr``, type 0: flags
    u16 at 10, bit 12) and, with ``columns``, every ``BrtColInfo`` run (type 60: flags u16 at 16, bit 0)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = bytearray(zin.read(info.filename))
            if info.filename == member:
                for typ, at in _records(bytes(data)):
                    if typ == 0 and struct.unpack_from("<I", data, at)[0] + 1 in rows:
                        data[at + 11] |= 0x10
                    elif typ == 60 and columns:
                        data[at + 16] |= 0x01
            zout.writestr(info, bytes(data))
    return dst


def _xlsb_cases(tmp: Path) -> list[tuple[Path, dict[str, tuple[set[int], set[int]]]]]:
    """Two workbooks and what is hidden in them: a date sheet with row 2 and column A hidden; a
    four-sheet workbook whose third sheet (stored as ``sheet3.bin``, listed after ``sheet2.bin``) has
    row 3 hidden, so the sheet is found by its name, not by the order of the zip."""
    dates = hide_in_xlsb(
        FOREIGN / "calamine" / "tests_date.xlsb",
        tmp / "dates.xlsb",
        "xl/worksheets/sheet1.bin",
        {2},
        columns=True,
    )
    base = hide_in_xlsb(
        FOREIGN / "python-calamine" / "tests_data_base.xlsb",
        tmp / "base.xlsb",
        "xl/worksheets/sheet3.bin",
        {3},
    )
    return [(dates, {"Sheet1": ({2}, {1})}), (base, {"Sheet3": ({3}, set())})]


def test_hidden_rows_and_columns_of_xlsb(tmp_path: Path) -> None:
    for path, expected in _xlsb_cases(tmp_path):
        sheets = read_sheets(path)
        found = {s.name: (s.hidden_rows, s.hidden_cols) for s in sheets if s.hidden_rows or s.hidden_cols}
        assert found == expected, path.name
        # hidden rows are still read (a hidden row of data is data)
        assert all(s.table.num_rows >= max(s.hidden_rows, default=0) for s in sheets)
    untouched = read_sheets(FOREIGN / "python-calamine" / "tests_data_base.xlsb")
    assert all(not s.hidden_rows and not s.hidden_cols for s in untouched)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is the oracle here")
def test_libreoffice_sees_the_same_hidden_rows_in_the_xlsb_cases(tmp_path: Path) -> None:
    import openpyxl

    for path, expected in _xlsb_cases(tmp_path):
        subprocess.run(
            ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "xlsx"]
            + ["--outdir", str(tmp_path / "lo-out"), str(path)],
            check=True,
            capture_output=True,
            timeout=180,
        )
        book = openpyxl.load_workbook(tmp_path / "lo-out" / f"{path.stem}.xlsx")
        seen = {
            ws.title: (
                {r for r, d in ws.row_dimensions.items() if d.hidden},
                {
                    openpyxl.utils.column_index_from_string(c)
                    for c, d in ws.column_dimensions.items()
                    if d.hidden
                },
            )
            for ws in book.worksheets
        }
        assert {k: v for k, v in seen.items() if v != (set(), set())} == expected, path.name
