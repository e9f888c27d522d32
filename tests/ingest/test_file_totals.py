"""The cells of a whole file are bounded, not only each sheet's (issue 11): the stages after the read
(layout, validation, the store's rows and findings) hold every sheet at once, so a workbook whose
sheets are each within ``HUB_MAX_CELLS`` but together over it is refused before anything is stored,
with the count, the limit and what to do, in Chinese."""

from __future__ import annotations

import json

import pytest

from tests.conftest import SAMPLE, Cli

POPULATION = SAMPLE / "青山镇_人口台账_2026.xlsx"  # five village sheets: 273 rows × 16 columns in all


def test_a_workbook_over_the_cell_limit_in_all_its_sheets_is_refused(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_MAX_CELLS", "2000")  # each sheet (at most 70 × 16 = 1,120 cells) is within
    result = cli("ingest", POPULATION, "--no-link", "--no-annotate")
    assert result.exit_code == 1
    assert "拒收，未导入任何数据" in result.stdout
    assert (
        "青山镇_人口台账_2026.xlsx: 单元格数超过上限（5 个工作表合计）：4,368，上限 2,000，未导入"
        in result.stdout
    )
    assert "请按村或按表拆分，每份不超过 2,000 个单元格" in result.stdout
    status = json.loads(cli("status", "--json").stdout)
    assert status["rows"] == 0


def test_the_same_workbook_within_the_limit_goes_in(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli("divisions", "load", SAMPLE / "divisions.csv").exit_code == 0
    monkeypatch.setenv("HUB_MAX_CELLS", "4368")  # exactly what it holds
    reports, _ = cli.json("ingest", POPULATION, "--no-link", "--no-annotate")
    assert reports[0]["status"] == "ingested" and reports[0]["rows"] > 200
