"""Golden cases: tests/golden/<REPORT>/input.yaml (canonical rows) → expected.json (every file with
its records, problems and every cell as the department receives it). Adding a report is adding a
folder. Regenerate after a reviewed change with ``HUB_GOLDEN_WRITE=1 pytest tests/export/test_golden.py``."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
from export_helpers import GOLDEN, golden_db, read_csv, read_xlsx

from hub.export import export_reports

CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "input.yaml").exists())


def run_case(name: str, out: Path) -> dict[str, Any]:
    db, case = golden_db(GOLDEN / name)
    try:
        results = export_reports(
            db, reports=[name], ref_date=dt.date.fromisoformat(case["ref_date"]), out_dir=out
        )
    finally:
        db.close()
    files: dict[str, Any] = {}
    for r in results:
        cells = read_csv(r.path) if r.path.suffix == ".csv" else read_xlsx(r.path)
        files[r.path.relative_to(out).as_posix()] = {
            "township": r.township,
            "township_name": r.township_name,
            "department": r.department,
            "records": r.records,
            "cells": r.cells,
            "problems": r.problems,
            "content": cells,
        }
    return files


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str, tmp_path: Path) -> None:
    got = run_case(name, tmp_path)
    expected_path = GOLDEN / name / "expected.json"
    if os.environ.get("HUB_GOLDEN_WRITE"):
        expected_path.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert got == expected


def test_every_report_has_a_golden_case() -> None:
    from hub.export import list_reports

    assert {r.id for r in list_reports()} == set(CASES)


@pytest.mark.parametrize("name", ["MZ-DIBAO", "TJ-POP"])
def test_exporting_twice_gives_identical_cells(name: str, tmp_path: Path) -> None:
    assert run_case(name, tmp_path / "a") == {k: v for k, v in run_case(name, tmp_path / "b").items()}
