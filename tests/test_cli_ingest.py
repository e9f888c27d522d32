"""Ingest through the CLI, as a clerk or a batch run would, checked against the generator's ground
truth (sample_data/truth.json, written independently of the hub by hub.synth)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SAMPLE, Cli, use_workspace

LEDGERS = sorted(p for p in SAMPLE.iterdir() if p.suffix in {".xlsx", ".csv"} and p.name != "divisions.csv")


@pytest.fixture
def loaded(cli: Cli) -> Cli:
    result = cli("divisions", "load", SAMPLE / "divisions.csv")
    assert result.exit_code == 0, result.output
    return cli


def test_every_sample_row_is_accepted_or_reported_with_the_expected_codes(loaded: Cli) -> None:
    reports, code = loaded.json("ingest", *LEDGERS, "--no-annotate", "--no-link")
    assert code == 1  # the samples hold deliberate errors
    stored = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))
    truth = stored["files"]
    by_name = {Path(r["file"]).name: r for r in reports}
    assert set(by_name) == set(truth) | {led["path"] for led in stored["real_headed"]}
    for name, t in truth.items():
        r = by_name[name]
        assert r["status"] == "ingested", r
        assert r["kind"] == t["kind"] and r["township"] == t["township_code"]
        assert r["rows"] == len(t["rows"]) == r["accepted"] + r["rejected"], name
        expected = {(row["sheet"], row["row"], c["code"]) for row in t["rows"] for c in row["codes"]}
        found = {(f["sheet"], f["row"], f["code"]) for f in r["errors"] + r["warnings"]}
        assert found == expected, (name, sorted(expected - found)[:5], sorted(found - expected)[:5])
        rejected_rows = {
            (row["sheet"], row["row"])
            for row in t["rows"]
            if any(c["severity"] == "error" for c in row["codes"])
        }
        assert r["rejected"] == len(rejected_rows), name
        for f in r["errors"] + r["warnings"]:
            assert f["message"] and f["column"] is not None or f["code"] == "duplicate-row"


@pytest.mark.xdist_group("sample_ingest")  # shares test_cli_linkage's ingested samples, on one worker
def test_entity_resolution_fills_ids_only_with_the_true_person(
    cli: Cli, hub_home: Path, sample_ingested: tuple[Path, list[dict[str, Any]]]
) -> None:
    # `hub divisions load`, then `hub ingest *LEDGERS --no-annotate` (shared with test_cli_linkage)
    template, reports = sample_ingested
    use_workspace(template, hub_home)
    loaded = cli
    truth = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))["files"]
    keys = {(name, r["sheet"], r["row"]): r["key"] for name, t in truth.items() for r in t["rows"]}
    filled = [
        (Path(rep["file"]).name, w)
        for rep in reports
        for w in rep["warnings"]
        if w["code"] == "id-filled-by-match"
    ]
    assert filled, "the samples hold precision-lost IDs of persons known from another ledger"
    for name, w in filled:
        assert w["value"] == keys[(name, w["sheet"], w["row"])], (name, w)
    for rep in reports:
        for e in rep["errors"]:
            if e["code"] == "id-match-candidates":
                assert "*" in e["message"]  # candidates are listed with masked IDs only
    status, _ = loaded.json("status")
    assert status["accepted"] == sum(r["accepted"] for r in reports)
    assert status["rows"] == sum(r["accepted"] + r["rejected"] for r in reports)


def test_reingesting_the_same_file_changes_nothing(loaded: Cli) -> None:
    first, _ = loaded.json("ingest", LEDGERS[0])
    before, _ = loaded.json("status")
    again, _ = loaded.json("ingest", LEDGERS[0])
    after, _ = loaded.json("status")
    assert first[0]["status"] == "ingested" and again[0]["status"] == "unchanged"
    assert "未作任何改动" in again[0]["message"]
    assert {k: v for k, v in before.items() if k != "home"} == {k: v for k, v in after.items() if k != "home"}


def test_text_summary_names_rows_columns_and_the_annotated_copy(loaded: Cli, hub_home: Path) -> None:
    dibao = next(p for p in LEDGERS if "低保" in p.name)
    result = loaded("ingest", dibao)
    assert result.exit_code == 1
    assert "第" in result.stdout and "行" in result.stdout
    annotated = list((hub_home / "annotated").glob("*.xlsx"))
    assert len(annotated) == 1 and annotated[0].name in result.stdout


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("空.xlsx", b"", "空"),
        ("图片.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "图片"),
        ("截断.xlsx", b"PK\x03\x04" + b"\x00" * 30, ""),
    ],
)
def test_bad_files_are_refused_with_a_message_and_no_traceback(
    loaded: Cli, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    bad = tmp_path / name
    bad.write_bytes(content)
    before, _ = loaded.json("status")
    result = loaded("ingest", bad)
    assert result.exit_code == 1
    assert name in result.stdout and reason in result.stdout
    assert "Traceback" not in result.output
    after, _ = loaded.json("status")
    assert before["submissions"] == after["submissions"] == 0


def test_entry_point_help_is_fast_and_chinese() -> None:
    hub = Path(sys.executable).parent / "hub"
    out = subprocess.run([str(hub), "--help"], capture_output=True, text=True, timeout=30, check=True)
    for command in ("ingest", "status", "conflicts", "export", "run", "mappings", "divisions"):
        assert command in out.stdout
    assert "一表通" in out.stdout
    # GX, pandas and openpyxl stay out of start-up
    probe = "import sys, cli; print(sorted(m for m in ('great_expectations', 'pandas', 'openpyxl', 'duckdb') if m in sys.modules))"
    mods = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
    )
    assert mods.stdout.strip() == "[]"


def test_real_headed_sample_ledgers_are_read_column_by_column_and_every_row_accepted(loaded: Cli) -> None:
    """The two sample ledgers headed as public 民政 forms are (特困人员家庭查询 export, 高龄津贴 roster
    in traditional characters, GBK CSV): every column placed as the form means it, asked of nobody,
    every row accepted."""
    real = json.loads((SAMPLE / "truth.json").read_text(encoding="utf-8"))["real_headed"]
    assert len(real) == 2
    for led in real:
        placed, code = loaded.json("columns", SAMPLE / led["path"])
        assert code == 0, placed
        cols = {c["col_index"]: c for sheet in placed["sheets"] for c in sheet["columns"]}
        wrong = [
            (c["header"], c["field"], cols[c["col_index"]]["field"])
            for c in led["columns"]
            if cols[c["col_index"]]["field"] != c["field"] or cols[c["col_index"]]["held"]
        ]
        assert not wrong, (led["path"], wrong)
    reports, _ = loaded.json("ingest", *(SAMPLE / led["path"] for led in real), "--no-annotate", "--no-link")
    for led, rep in zip(real, reports, strict=True):
        assert rep["status"] == "ingested", rep
        assert rep["rows"] == led["rows"] == rep["accepted"], (led["path"], rep["rows"], rep["accepted"])


def test_the_annotated_copy_marks_the_first_rows_and_the_report_keeps_every_finding(
    loaded: Cli, hub_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: a copy marks at most HUB_ANNOTATE_MAX_ROWS rows with a problem (20,000; here 2) and
    says how many it left out; the report (--json) and the store keep every finding."""
    from openpyxl import load_workbook

    dibao = next(p for p in LEDGERS if "低保" in p.name)
    monkeypatch.setenv("HUB_ANNOTATE_MAX_ROWS", "2")
    (report,), code = loaded.json("ingest", dibao, "--no-link")
    assert code == 1 and report["status"] == "ingested"
    rows = {(f["sheet"], f["row"]) for f in report["errors"] + report["warnings"] if f["row"] is not None}
    assert len(rows) > 2, "the sample needs more than two rows with a problem"
    (copy,) = (hub_home / "annotated").glob("*.xlsx")
    wb = load_workbook(copy)
    summary = [[c.value for c in row] for row in wb["问题汇总"].iter_rows(min_row=2)]
    listed = {(r[0], r[1]) for r in summary if r[1] is not None}
    assert listed == set(sorted(rows)[:2])
    assert f"有问题的行共 {len(rows)} 行，只标注了前 2 行" in summary[-1][4]
    commented = {
        (ws.title, c.row) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.comment
    }
    assert {r for _, r in commented} <= {r for _, r in sorted(rows)[:2]}
