"""Parity: ``hub run`` on the sample data with the linkage's scoring, the merge and the report queries on
Spark writes the same files as the embedded engine, every cell of every sheet (values, comments and
fills of flagged cells), read back with openpyxl (xlsx) and as GBK text (csv). ``hub export --engine
duckdb`` merges again first: the Spark merge left no snapshot for an incremental merge, so the
store's full merge runs, and the two sets of files come from a merge on each engine. A ``hub run
--engine duckdb`` in a workspace of its own (whose trained model the Spark run then uses: training
stays on DuckDB) gives the linkage on DuckDB: its pairs, person codes and files are the Spark run's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SAMPLE
from tests.spark.reportcells import differences, files, without_times

pytestmark = pytest.mark.spark
ROOT = Path(__file__).resolve().parents[2]


def hub(home: Path, *args: str) -> dict[str, Any]:
    env = {**os.environ, "HUB_HOME": str(home), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


LINKAGE = {
    "hub_link_pairs": "uid_l, uid_r, round(match_weight, 6), status",
    "hub_link_clusters": "uid, cluster_key, person_code",
    "hub_codes": "entity, natural_key, code, redirect_to",
}


def linkage(home: Path) -> dict[str, list[Any]]:
    from hub.store.db import Database

    with Database(home / "hub.duckdb", read_only=True) as db:
        return {t: sorted(db.rows(f"SELECT {c} FROM {t}"), key=repr) for t, c in LINKAGE.items()}


def test_sample_run_on_spark_writes_the_same_reports(tmp_path: Path) -> None:
    home, duck_home = tmp_path / "home", tmp_path / "duck-home"
    hub(duck_home, "run", str(SAMPLE), "--date", "2026-11-30", "--out", str(tmp_path / "duck-run"),
        "--engine", "duckdb")  # fmt: skip
    (home / "linkage").mkdir(parents=True)
    shutil.copy(duck_home / "linkage" / "model.json", home / "linkage" / "model.json")
    spark = hub(home, "run", str(SAMPLE), "--date", "2026-11-30", "--out", str(tmp_path / "spark"),
                "--engine", "spark")  # fmt: skip
    duck = hub(home, "export", "--date", "2026-11-30", "--out", str(tmp_path / "duck"), "--engine", "duckdb")
    assert spark["reports_written"] == 13
    assert (
        spark["timings"]["ingest.executors"] > 0
    )  # the ledgers were read by Spark's executors (issue 14, item 3)
    assert len(duck) == 13
    assert [r["path"] for r in duck] == [
        r["path"].replace(str(tmp_path / "spark"), str(tmp_path / "duck")) for r in spark["reports"]
    ]
    spark_files, duck_files = files(tmp_path / "spark"), files(tmp_path / "duck")
    assert len(spark_files) == 13
    assert spark_files.keys() == duck_files.keys()
    for name, cells in duck_files.items():
        assert spark_files[name] == cells, name
    # the linkage scored on Spark equals the linkage scored on DuckDB (same model), and so do the files
    spark_linkage = linkage(home)
    assert spark_linkage["hub_link_clusters"] and spark_linkage["hub_codes"]
    assert spark_linkage == linkage(duck_home)
    # another workspace's run: GA-SYRK's 更新时间 (GXSJ, the last CSV field) is when that run merged
    assert without_times(files(tmp_path / "duck-run")) == without_times(spark_files)
    # the warehouse holds the merged tables as Parquet, partitioned by township (folders Spark prunes)
    assert {p.name for p in (home / "warehouse" / "hub_person").iterdir()} >= {
        "township_code=331099001",
        "township_code=331099101",
    }


def test_a_county_of_100000_persons_on_spark_writes_the_same_reports(tmp_path: Path) -> None:
    """Parity at a county's size (issue 14, item 4): 100,000 persons in 8 townships
    (``benchmarks/gen_ledgers.py``, seeded), ``hub run`` on each engine in a workspace of its own;
    all 41 report files equal cell by cell (GA-SYRK's 更新时间, when each run merged, blanked)."""
    data = tmp_path / "data"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "gen_ledgers.py"), "--persons", "100000",
         "--townships", "8", "--out", str(data), "--format", "csv"],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    runs = {}
    for engine in ("duckdb", "spark"):
        out = str(tmp_path / engine)
        runs[engine] = hub(tmp_path / f"home-{engine}", "run", str(data), "--date", "2026-11-30",
                           "--out", out, "--engine", engine)  # fmt: skip
    assert runs["spark"]["persons"] == runs["duckdb"]["persons"] > 90_000
    assert runs["spark"]["reports_written"] == runs["duckdb"]["reports_written"] == 41
    assert runs["spark"]["reports_refused"] == runs["duckdb"]["reports_refused"] == 0
    assert list(differences(tmp_path / "duckdb", tmp_path / "spark", ignore_times=True)) == []
