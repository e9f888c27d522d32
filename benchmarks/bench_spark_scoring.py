"""Issue 14: the linkage's scoring alone (Splink's ``predict``) on the records of a workspace that
``hub run`` filled, on DuckDB and on Spark, with the time of each of Splink's Spark steps.

It works on a copy of the workspace's store (``--copy``, made once; the workspace is not written) and
scores what a full linkage run scores: the guarded records (``guard``) with the saved model
(``linkage/model.json``), the pairs at or above the review threshold. Prints the pairs kept (the same
on both engines), the guard's time, the Spark session's start and, on Spark, each of Splink's
materialised steps (``__splink__blocked_id_pairs``: blocking; ``__splink__df_predict``: scoring).

    .venv/bin/python benchmarks/bench_spark_scoring.py --home /work/spark1m/home-duckdb \\
        --copy /tmp/scoring-1m [--engines duckdb,spark]

Set ``HUB_SPARK_DRIVER_MEMORY`` / ``HUB_SPARK_CONF`` as for ``hub run`` (the records are broadcast
when they fit the bound of :func:`hub.store.spark_link.records_broadcast`;
``HUB_SPARK_CONF=spark.sql.autoBroadcastJoinThreshold=-1`` scores without broadcasting).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def score(home: Path, engine_name: str) -> None:
    from hub.dedupe.linkage.chinese import PERSON_SPEC
    from hub.dedupe.linkage.config import LinkageConfig
    from hub.dedupe.linkage.guard import guard
    from hub.dedupe.linkage.pipeline import BLOCK_LABELS
    from hub.dedupe.linkage.records import INPUT
    from hub.store.db import open_store
    from hub.store.engine import StoreEngine

    db = open_store(home)
    cfg = LinkageConfig()
    model: dict[str, Any] = json.loads((home / "linkage" / "model.json").read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    guarded = guard(db, INPUT, PERSON_SPEC.blocking_rules, max_identical=cfg.max_identical,
                    max_block=cfg.max_block, labels=BLOCK_LABELS)  # fmt: skip
    print(f"{engine_name}: guard {time.perf_counter() - t0:.1f} s", flush=True)
    if guarded.rules:
        rules = model["blocking_rules_to_generate_predictions"]
        model["blocking_rules_to_generate_predictions"] = [
            {**r, "blocking_rule": guarded.rules.get(r["blocking_rule"], r["blocking_rule"])} for r in rules
        ]
    engine: Any
    if engine_name == "spark":
        import splink.internals.spark.database_api as spark_api

        from hub.store.spark import SparkEngine

        t0 = time.perf_counter()
        engine = SparkEngine(home / "warehouse")
        print(f"spark: session {time.perf_counter() - t0:.1f} s", flush=True)
        step = spark_api.SparkAPI._cleanup_for_execute_sql

        def timed(self: Any, table: Any, templated_name: str, physical_name: str) -> Any:
            t1 = time.perf_counter()
            out = step(self, table, templated_name, physical_name)
            print(f"spark:   step {templated_name}: {time.perf_counter() - t1:.1f} s", flush=True)
            return out

        spark_api.SparkAPI._cleanup_for_execute_sql = timed  # type: ignore[method-assign]
    else:
        engine = StoreEngine(db)
    t0 = time.perf_counter()
    pairs = engine.predict_pairs(db, guarded.table, model, "__link_scored", cfg.lower)
    print(f"{engine_name}: predict {time.perf_counter() - t0:.1f} s, {pairs:,} pairs kept", flush=True)
    db.execute("DROP TABLE IF EXISTS __link_scored")
    db.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, required=True, help="a workspace `hub run` filled (HUB_HOME)")
    ap.add_argument("--copy", type=Path, required=True, help="where the store is copied (made once)")
    ap.add_argument("--engines", default="duckdb,spark")
    args = ap.parse_args()
    if not (args.copy / "hub.duckdb").exists():
        args.copy.mkdir(parents=True, exist_ok=True)
        shutil.copy(args.home / "hub.duckdb", args.copy / "hub.duckdb")
        shutil.copytree(args.home / "linkage", args.copy / "linkage", dirs_exist_ok=True)
    for engine in args.engines.split(","):
        score(args.copy, engine.strip())


if __name__ == "__main__":
    main()
