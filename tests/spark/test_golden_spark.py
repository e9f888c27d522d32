"""The golden report cases, run with the report queries on Spark: the same expected.json as the
DuckDB run (tests/export/test_golden.py), every cell of every file; and, the files written by the
executors from the rows Spark spilled (hub.export.remote), the same bytes as DuckDB's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from export_helpers import GOLDEN, run_golden_case

pytestmark = pytest.mark.spark
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "input.yaml").exists())


@pytest.mark.parametrize("name", CASES)
def test_golden_on_spark(name: str, tmp_path: Path, spark_engine: Any) -> None:
    expected = json.loads((GOLDEN / name / "expected.json").read_text(encoding="utf-8"))
    assert run_golden_case(name, tmp_path / "spark", spark_engine) == expected
    run_golden_case(name, tmp_path / "duck")
    spark_files = sorted(p for p in (tmp_path / "spark").rglob("*") if p.is_file())
    assert [p.relative_to(tmp_path / "spark") for p in spark_files] == [
        p.relative_to(tmp_path / "duck") for p in sorted((tmp_path / "duck").rglob("*")) if p.is_file()
    ]
    for p in spark_files:
        assert p.read_bytes() == (tmp_path / "duck" / p.relative_to(tmp_path / "spark")).read_bytes(), p.name
    assert not list((spark_engine.warehouse / "_spill").glob("*"))  # the spilled rows removed
