"""The golden report cases, run with the report queries on Spark: the same expected.json as the
DuckDB run (tests/export/test_golden.py), every cell of every file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from export_helpers import GOLDEN, golden_db, read_csv, read_xlsx

from hub.export import export_reports

pytestmark = pytest.mark.spark
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "input.yaml").exists())


def run_case(name: str, out: Path, engine: Any) -> dict[str, Any]:
    db, case = golden_db(GOLDEN / name)
    try:
        engine.attach(db)
        results = export_reports(
            db, reports=[name], ref_date=dt.date.fromisoformat(case["ref_date"]), out_dir=out, engine=engine
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
def test_golden_on_spark(name: str, tmp_path: Path, spark_engine: Any) -> None:
    expected = json.loads((GOLDEN / name / "expected.json").read_text(encoding="utf-8"))
    assert run_case(name, tmp_path, spark_engine) == expected
