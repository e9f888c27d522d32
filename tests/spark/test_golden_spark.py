"""The golden report cases, run with the report queries on Spark: the same expected.json as the
DuckDB run (tests/export/test_golden.py), every cell of every file."""

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
    assert run_golden_case(name, tmp_path, spark_engine) == expected
