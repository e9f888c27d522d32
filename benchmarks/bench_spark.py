"""Issue 14: `hub run` of a synthetic county on both engines, on this machine: wall time, peak RSS
of the process tree (the driver JVM included) and where the time goes (the run's own split,
``timings`` of ``hub run --json``: ingest, linkage training and scoring, merge, publish, reports).

The ledgers are generated once (``benchmarks/gen_ledgers.py``) into ``WORK/data`` and kept; each
engine runs the whole job (ingest, validation, linkage, merge, every report) in a workspace of its
own (``WORK/home-<engine>``, files in ``WORK/out-<engine>``). ``--compare``: then every report file
of the two runs is compared cell by cell (``tests/spark/reportcells.py``, the parity test's
comparison); the exit code is 1 when a cell differs.

    .venv/bin/python benchmarks/bench_spark.py --persons 100000 [--townships 8] [--master local[2]]
        [--work /work/spark100k] [--engines duckdb,spark] [--compare]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness import HUB, Measured, generate_ledgers, measure, print_table  # noqa: E402

# the run's split (hub.timings): label → the span names added up for it
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("ingest and validation (reading, recognition, one SQL pass per sheet)", ("ingest", "-link")),
    (
        "  of which the executors reading files (`map_files`, alongside the store)",
        ("ingest.executors",),
    ),
    ("linkage, all of it", ("link",)),
    ("  of which training (Splink EM, always on DuckDB)", ("link.train",)),
    ("  of which scoring the blocked pairs (`predict_pairs`)", ("link.score",)),
    ("merge", ("merge",)),
    ("  of which the merge's statements", ("spark.merge.statements",)),
    ("  of which writing the merged tables to Parquet", ("spark.merge.write",)),
    ("  of which loading them into the store", ("spark.merge.load",)),
    ("reports (`export`)", ("export",)),
    ("  of which the report queries", ("export.queries.*",)),
    ("  of which the writers (xlsx / GBK CSV; on Spark the executors' tasks)", ("export.write",)),
    ("  of which spilling the report rows as Parquet per township (Spark)", ("spark.spill",)),
    ("Spark session start (JVM, inside the first stage that needs it)", ("spark.session",)),
    ("publish store tables → Parquet (inside linkage, merge, reports)", ("spark.publish",)),
    ("canonical views on Spark (inside reports)", ("spark.views",)),
    ("annotated copies still waited for", ("annotate",)),
]


def stage_seconds(timings: dict[str, float], names: tuple[str, ...]) -> float | None:
    """The sum of the named spans (``x.*``: every span under x; ``-x``: x subtracted); None when
    none of them was recorded (the engine has no such step)."""
    total, seen = 0.0, False
    for name in names:
        sign = -1.0 if name.startswith("-") else 1.0
        key = name.lstrip("-")
        hits = [v for k, v in timings.items() if (k.startswith(key[:-1]) if key.endswith("*") else k == key)]
        if hits and sign > 0:
            seen = True
        total += sign * sum(hits)
    return total if seen else None


def stage_table(runs: dict[str, dict[str, Any]]) -> str:
    engines = list(runs)
    lines = ["| stage | " + " | ".join(engines) + " |", "|---|" + "---|" * len(engines)]
    for label, names in STAGES:
        cells = [stage_seconds(runs[e].get("timings", {}), names) for e in engines]
        if any(c is not None for c in cells):
            lines.append(
                f"| {label} | " + " | ".join("–" if c is None else f"{c:.1f} s" for c in cells) + " |"
            )
    totals = [runs[e].get("seconds") for e in engines]
    lines.append("| `hub run` as it reports itself | " + " | ".join(f"{t} s" for t in totals) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--townships", type=int, default=8)
    ap.add_argument("--master", default=os.environ.get("HUB_SPARK_MASTER", "local[2]"))
    ap.add_argument("--work", type=Path, default=None, help="kept: ledgers, workspaces, report files")
    ap.add_argument("--engines", default="duckdb,spark")
    ap.add_argument("--compare", action="store_true", help="compare every report cell by cell")
    args = ap.parse_args()
    work = args.work or Path(f"/tmp/hub-bench-spark-{args.persons}")
    data = work / "data"
    if not (data / "divisions.csv").exists():
        generate_ledgers(data, args.persons, args.townships, "csv")
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    rows: list[Measured] = []
    runs: dict[str, dict[str, Any]] = {}
    for engine in engines:
        home, out, summary = work / f"home-{engine}", work / f"out-{engine}", work / f"run-{engine}.json"
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        label = f"`hub run --engine {engine}` ({args.persons:,} persons, {args.townships} townships)"
        if engine == "spark":  # a benchmark option, not a stage: which master the run is given
            label += f", {args.master}"
        run = ["run", str(data), "--date", "2026-11-30", "--json", "--out", str(out)]
        argv = [HUB, *run, "--engine", engine]
        env = {"HUB_HOME": str(home), "HUB_SPARK_MASTER": args.master}
        rows.append(measure(label, argv, env=env, stdout=summary))
        runs[engine] = json.loads(summary.read_text(encoding="utf-8"))
        print(rows[-1].line(), flush=True)
    print_table(rows)
    print()
    print(stage_table(runs))
    for engine, run in runs.items():
        print(
            f"{engine}: {run['files']} files, {run['rows']:,} rows, {run['persons']:,} persons, "
            f"{run['reports_written']} reports written, {run['reports_refused']} refused"
        )
    if args.compare and len(runs) == 2:
        from tests.spark.reportcells import differences, report_names

        a, b = (work / f"out-{e}" for e in engines)
        found = list(differences(a, b, ignore_times=True))
        print(f"reports compared cell by cell ({len(report_names(a))} files): ", end="")
        print("identical" if not found else f"{len(found)} differ")
        for line in found:
            print("  " + line)
        raise SystemExit(1 if found else 0)


if __name__ == "__main__":
    main()
