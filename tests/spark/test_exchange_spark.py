"""The exchange stage on Spark (issue 14, item 1: "changes and tombstones"): a department pulling the
changes feed of a township's report over a month of uploads (new residents, a changed phone, a
death, a move to another township, a withdrawal), and a county-wide report and a report file, gets
the same bytes from a hub on Spark as from a hub on DuckDB: the same cursors, records, field changes
and tombstones with their reasons. Only the merge's timestamps (更新时间, the time each run merged)
differ, and are blanked.

Each engine runs the whole month in one process (tests/spark/feed_steps.py): the snapshots' report
queries and the merges on that engine, on ``HUB_SPARK_MASTER`` (CI: the loopback standalone
cluster)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.spark
ROOT = Path(__file__).resolve().parents[2]
MERGED_AT = re.compile(r'"GXSJ": ?"\d{14}"')  # GA-SYRK's 更新时间: when the run merged the record


def month(engine: str, folder: Path) -> dict[str, Any]:
    out = folder / f"{engine}.json"
    done = subprocess.run(
        [sys.executable, "-m", "tests.spark.feed_steps", str(folder / engine), str(out)],
        env={**os.environ, "HUB_ENGINE": engine, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return got


def test_the_changes_feed_on_spark_is_the_feed_on_duckdb(tmp_path: Path) -> None:
    duck, spark = month("duckdb", tmp_path), month("spark", tmp_path)
    assert len(duck["pulls"]) == len(spark["pulls"]) == 13
    feeds = [json.loads(p) for p in duck["pulls"]]
    reasons = sorted(r["reason"] for f in feeds for r in f["removed"])
    assert {"死亡", "迁出", "撤回"} <= set(reasons)  # the tombstones this month must carry
    assert sum(f["counts"]["changed"] for f in feeds) >= 2
    blank = [MERGED_AT.sub('"GXSJ":"-"', p) for p in duck["pulls"]]
    assert blank != duck["pulls"]  # the county report carries merge times: blanked on both
    for step, (a, b) in enumerate(zip(blank, spark["pulls"], strict=True)):
        assert a == MERGED_AT.sub('"GXSJ":"-"', b), step
    assert duck["file"] == spark["file"]  # the report file a department downloads: same bytes
