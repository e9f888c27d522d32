"""Hidden rows and columns of ``.xls`` and ``.ods`` are found as those of ``.xlsx`` are (issue 11).

``tests/data/hidden/hidden.xlsx`` (openpyxl: sheet 人口 with row 3 and column C hidden, sheet 说明
with row 1 hidden) was saved as ``.xls`` and ``.ods`` by LibreOffice 7 (``soffice --convert-to``)."""

from __future__ import annotations

import pytest

from hub.ingest.readers import read_sheets
from hub.paths import REPO_ROOT

DATA = REPO_ROOT / "tests" / "data" / "hidden"


@pytest.mark.parametrize("suffix", ["xls", "ods"])
def test_hidden_rows_and_columns_as_in_xlsx(suffix: str) -> None:
    expected = {s.name: (s.hidden_rows, s.hidden_cols) for s in read_sheets(DATA / "hidden.xlsx")}
    assert expected == {"人口": ({3}, {3}), "说明": ({1}, set())}
    sheets = read_sheets(DATA / f"hidden.{suffix}")
    assert {s.name: (s.hidden_rows, s.hidden_cols) for s in sheets} == expected
    # the hidden row is still read (a hidden row of data is data); only the layout treats it apart
    assert sheets[0].table.num_rows == 5
