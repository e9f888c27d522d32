"""`hub run sample_data`, the main job, through the CLI: every report for both townships, each file
opened as a department opens it, and the promises of the fan-out checked on the real output."""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SAMPLE, Cli

REPORTS = {"MZ-DIBAO", "CL-LXBT", "WJ-ELDERLY65", "MZ-GAOLING", "TJ-POP", "GA-SYRK", "SJ-GTGSH"}
TOWNSHIPS = {"331099101": "青山镇", "331099001": "城关街道"}
ID = re.compile(r"^\d{17}[\dX]$")


# The tests reading one run share it: they go to one xdist worker (make test's --dist loadgroup), so
# `hub run sample_data` runs once for them rather than once per test.
ONE_RUN = pytest.mark.xdist_group("cli_run")


@pytest.fixture(scope="session")  # session: a module fixture is rebuilt when xdist interleaves modules
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, Path]:
    """`hub run sample_data` once into a fresh workspace: the summary, the workspace, the output."""
    tmp = tmp_path_factory.mktemp("cli_run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUB_HOME", str(tmp / "hub-data"))
        mp.chdir(tmp)
        summary, code = Cli().json("run", SAMPLE, "--date", "2026-11-30", "--out", tmp / "out")
    assert code == 0
    return summary, tmp / "hub-data", tmp / "out"


def _sheet_values(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in wb.worksheets}


@ONE_RUN
def test_every_report_for_both_townships_opens_with_its_layout(
    run: tuple[dict[str, Any], Path, Path],
) -> None:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    summary, _, _ = run
    written = {(r["report"], r["township"]) for r in summary["reports"] if r["written"]}
    expected = {(r, t) for r in REPORTS - {"GA-SYRK"} for t in TOWNSHIPS} | {("GA-SYRK", None)}
    assert written == expected
    assert summary["files"] == 10 and summary["rows"] == summary["accepted"] + summary["rejected"]
    assert summary["cells_delivered"] > 0 and 0.5 < summary["reuse_rate"] <= 1
    # The annotated copies are finished after the export: every file with a problem has its copy.
    timings = summary["timings"]
    assert {"ingest", "merge", "export", "annotate"} <= set(timings)
    # the steps' own split (hub.timings): the linkage inside ingest, its training and scoring inside
    # it; the report queries (one entry per report) and the writers inside the export
    assert {"link", "link.train", "link.score", "export.write"} <= set(timings)
    assert {k.removeprefix("export.queries.") for k in timings if k.startswith("export.queries.")} == REPORTS
    # (each figure rounded to 0.01 s)
    assert timings["link.train"] + timings["link.score"] <= timings["link"] + 0.02 <= timings["ingest"] + 0.03
    inside_export = sum(v for k, v in timings.items() if k.startswith("export."))
    assert 0 < inside_export <= timings["export"] + 0.05
    with_problems = [f for f in summary["file_reports"] if f["errors"] or f["warnings"]]
    assert with_problems and all(Path(f["annotated"]).is_file() for f in with_problems)
    for r in summary["reports"]:
        path = Path(r["path"])
        if path.suffix == ".csv":
            continue
        wb = load_workbook(path)
        ws = wb.worksheets[0]
        width = ws.max_column
        assert f"A1:{get_column_letter(width)}1" in {str(m) for m in ws.merged_cells.ranges}  # title across
        assert TOWNSHIPS[r["township"]] in str(ws["A1"].value)  # the title names the township
        assert ws.freeze_panes is not None
        assert any(c.font.name == "宋体" for c in ws[1])
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and ID.match(cell.value):
                    assert cell.number_format == "@", (path.name, cell.coordinate)  # IDs as text
        labels = [str(c.value) for c in ws["A"] if c.value is not None] + [
            str(c.value) for c in ws["B"] if c.value is not None
        ]
        assert any(v.startswith("合计") for v in labels), path.name


@ONE_RUN
def test_ga_syrk_is_gbk_with_field_codes_and_no_none(run: tuple[dict[str, Any], Path, Path]) -> None:
    summary, _, _ = run
    (ga,) = [Path(r["path"]) for r in summary["reports"] if r["report"] == "GA-SYRK"]
    text = ga.read_bytes().decode("gbk")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["XM", "XBDM", "GMSFHM", "MZDM", "CSRQ", "SSXQDM", "XZZ", "LXDH", "SJLY", "GXSJ"]
    assert all(v not in ("None", "nan") for row in rows[1:] for v in row)
    ids = [row[2] for row in rows[1:]]
    assert len(ids) == len(set(ids)) and all(ID.match(i) for i in ids)  # one line per real person


@ONE_RUN
def test_every_person_is_in_at_most_one_townships_file(run: tuple[dict[str, Any], Path, Path]) -> None:
    summary, _, _ = run
    for report in REPORTS - {"GA-SYRK", "MZ-GAOLING", "TJ-POP", "SJ-GTGSH"}:
        seen: dict[str, str] = {}
        for r in summary["reports"]:
            if r["report"] != report:
                continue
            for rows in _sheet_values(Path(r["path"])).values():
                for value in {v for row in rows for v in row if isinstance(v, str) and ID.match(v)}:
                    assert seen.setdefault(value, r["township"]) == r["township"], (report, value)


@ONE_RUN
def test_a_second_run_changes_nothing_and_exports_identical_cells(
    run: tuple[dict[str, Any], Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary, home, _ = run
    monkeypatch.setenv("HUB_HOME", str(home))  # the same workspace, as a user runs the job again
    monkeypatch.chdir(tmp_path)
    cli = Cli()
    first = {
        Path(r["path"]).name: _sheet_values(Path(r["path"]))
        for r in summary["reports"]
        if r["path"].endswith(".xlsx")
    }
    again, code = cli.json("run", SAMPLE, "--date", "2026-11-30", "--out", tmp_path / "out2")
    assert code == 0 and again["unchanged"] == 10 and again["persons"] == summary["persons"]
    second = {
        Path(r["path"]).name: _sheet_values(Path(r["path"]))
        for r in again["reports"]
        if r["path"].endswith(".xlsx")
    }
    assert first == second


def test_mappings_check_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    # one spec per directory: that every shipped spec passes is tests/export/test_spec_check.py's
    # test_shipped_specs_pass (the same check_mappings), here the command's output and exit code
    shipped, broken = tmp_path / "shipped", tmp_path / "mappings"
    for directory in (shipped, broken):
        directory.mkdir()
        shutil.copy(SAMPLE.parent / "mappings" / "CL-LXBT.yaml", directory)
    ok = cli("mappings", "check", shipped)
    assert ok.exit_code == 0 and "通过" in ok.stdout
    spec = broken / "CL-LXBT.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("p.sex", "p.sexx", 1), encoding="utf-8")
    bad = cli("mappings", "check", broken)
    assert bad.exit_code == 1
    assert "CL-LXBT.yaml" in bad.stdout and "sexx" in bad.stdout and "did you mean 'sex'" in bad.stdout
