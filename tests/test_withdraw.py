"""Withdrawing a submission (issue 11): its rows leave every report and the merged records, the
submission and the decision (who, when, why) stay in the audit trail; withdrawing twice or an
unknown id is a clear message and exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import SAMPLE, Cli

DISABILITY = SAMPLE / "青山镇_残疾人台账_2026.xlsx"
DIBAO = SAMPLE / "青山镇_低保花名册_2026年11月.xlsx"
TOWN = "331099101"


def _dibao(cli: Cli, out: Path) -> tuple[int, list[str]]:
    """MZ-DIBAO of 青山镇 as a department gets it: records, and every name in the workbook."""
    result = cli(
        "export", "--report", "MZ-DIBAO", "--township", TOWN, "--date", "2026-11-30", "--out", out, "--json"
    )
    assert result.exit_code in (0, 1), result.output
    items = json.loads(result.stdout)
    if not items:  # no 低保 household left in the township: no report to send
        return 0, []
    [item] = items
    if not item["path"]:
        return item["records"], []
    wb = openpyxl.load_workbook(item["path"], read_only=True)
    cells = [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v]
    wb.close()
    return item["records"], cells


@pytest.fixture
def loaded(cli: Cli) -> tuple[Cli, dict[str, int]]:
    """Two ledgers of 青山镇 in, and merged as an upload job of the web pages leaves them."""
    from hub.facade import Hub

    assert cli("divisions", "load", SAMPLE / "divisions.csv").exit_code == 0
    reports, _ = cli.json("ingest", DISABILITY, DIBAO, "--no-link")
    hub = Hub()
    hub.merge()
    hub.close()
    return cli, {Path(r["file"]).name: r["submission_id"] for r in reports}


def test_a_withdrawn_submission_leaves_every_report_and_stays_in_the_audit_trail(
    loaded: tuple[Cli, dict[str, int]], tmp_path: Path
) -> None:
    cli, ids = loaded
    before, _ = cli.json("status")
    assert list((Path(before["home"]) / "annotated").glob("青山镇_低保*"))
    records, cells = _dibao(cli, tmp_path / "before")
    dibao_names = {c for c in cells if 2 <= len(c) <= 4}
    assert records > 0 and dibao_names

    result = cli(
        "withdraw", str(ids[DIBAO.name]), "--reason", "误报：花名册月份填错", "--by", "张三", "--json"
    )
    assert result.exit_code == 0, result.output
    audit = json.loads(result.stdout)
    assert audit["file_name"] == DIBAO.name and audit["withdrawn_by"] == "张三"
    assert audit["reason"] == "误报：花名册月份填错" and audit["rows"] > 0 and audit["completed_at"]

    after, _ = cli.json("status")
    assert after["submissions"] == before["submissions"] - 1 and after["withdrawn"] == 1
    assert after["rows"] == before["rows"] - audit["rows"]
    assert after["households"] < before["households"]  # the 低保 households were this file's
    records_after, cells_after = _dibao(cli, tmp_path / "after")
    assert records_after == 0
    assert not [c for c in cells_after if c in dibao_names and c not in cells]  # no new names either
    assert not list((Path(after["home"]) / "annotated").glob("青山镇_低保*"))

    again = cli("withdraw", str(ids[DIBAO.name]), "--reason", "再撤一次")
    assert again.exit_code == 1 and "已于" in again.output and "张三" in again.output
    assert "Traceback" not in again.output

    # the same file sent again is a new submission (the withdrawn one stays withdrawn)
    reports, _ = cli.json("ingest", DIBAO, "--no-link", "--no-annotate")
    assert reports[0]["status"] == "ingested" and reports[0]["submission_id"] != ids[DIBAO.name]


def test_withdrawing_an_unknown_submission_or_without_a_reason_is_refused(cli: Cli) -> None:
    assert cli("divisions", "load", SAMPLE / "divisions.csv").exit_code == 0
    unknown = cli("withdraw", "42", "--reason", "测试")
    assert unknown.exit_code == 1 and "没有提交号为 42" in unknown.output
    empty = cli("withdraw", "42", "--reason", " ")
    assert empty.exit_code == 1 and "撤回原因" in empty.output
    status, _ = cli.json("status")
    assert status["withdrawn"] == 0
