"""Golden cases: tests/golden/<REPORT>/input.yaml (canonical rows) → expected.json (every file with
its records, problems and every cell as the department receives it). Adding a report is adding a
folder. Regenerate after a reviewed change with ``HUB_GOLDEN_WRITE=1 pytest tests/export/test_golden.py``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from export_helpers import GOLDEN, run_golden_case

CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "input.yaml").exists())


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str, tmp_path: Path) -> None:
    got = run_golden_case(name, tmp_path)
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
    assert run_golden_case(name, tmp_path / "a") == {
        k: v for k, v in run_golden_case(name, tmp_path / "b").items()
    }
