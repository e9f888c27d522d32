"""Issue 14: `hub run` on both engines, on this machine (time, peak memory of the process tree,
the JVM included). The ledgers are generated once; each engine runs the whole job (ingest,
validation, merge, every report) in its own workspace; the report stage alone is then timed on the
same store with each engine (`hub export`), and the report files are compared cell by cell.

    .venv/bin/python benchmarks/bench_spark.py [--persons 100000] [--townships 8] [--master local[2]]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import HUB, generate_ledgers, machine, measure, print_table  # noqa: E402


def same_reports(a: Path, b: Path) -> str:
    """'identical' or the first file that differs (xlsx read with openpyxl, csv as GBK text)."""
    from openpyxl import load_workbook

    names = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    if names != sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file()):
        return "different file lists"
    for name in names:
        if name.suffix == ".csv":
            if (a / name).read_bytes() != (b / name).read_bytes():
                return f"differs: {name}"
            continue
        wa, wb = load_workbook(a / name), load_workbook(b / name)
        for sa, sb in zip(wa.worksheets, wb.worksheets, strict=True):
            if list(sa.iter_rows(values_only=True)) != list(sb.iter_rows(values_only=True)):
                return f"differs: {name} {sa.title}"
    return f"identical ({len(names)} files)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--townships", type=int, default=8)
    ap.add_argument("--master", default=os.environ.get("HUB_SPARK_MASTER", "local[2]"))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hub-bench-spark-"))
    spark = {"HUB_SPARK_MASTER": args.master}
    try:
        data = generate_ledgers(work / "data", args.persons, args.townships, "csv")
        run = [HUB, "run", str(data), "--date", "2026-11-30", "--json", "--no-link"]
        export = [HUB, "export", "--date", "2026-11-30", "--json"]
        rows = [
            measure(
                f"`hub run --no-link --engine duckdb` ({args.persons:,} persons, {args.townships} townships)",
                [*run, "--out", str(work / "out-duck"), "--engine", "duckdb"],
                env={"HUB_HOME": str(work / "home-duck")},
            ),
            measure(
                f"`hub run --no-link --engine spark` ({args.master})",
                [*run, "--out", str(work / "out-spark"), "--engine", "spark"],
                env={"HUB_HOME": str(work / "home-spark"), **spark},
            ),
            measure(
                "`hub export --engine duckdb` (the report stage alone, same store)",
                [*export, "--out", str(work / "exp-duck"), "--engine", "duckdb"],
                env={"HUB_HOME": str(work / "home-spark")},
            ),
            measure(
                "`hub export --engine spark` (publish to Parquet + every report on Spark)",
                [*export, "--out", str(work / "exp-spark"), "--engine", "spark"],
                env={"HUB_HOME": str(work / "home-spark"), **spark},
            ),
        ]
        print(machine())
        print_table(rows)
        print("reports, run on each engine:", same_reports(work / "out-duck", work / "out-spark"))
        print("reports, export on each engine:", same_reports(work / "exp-duck", work / "exp-spark"))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
