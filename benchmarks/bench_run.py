"""Issue 3 target: `hub run` over 1,000,000 persons across several ledgers and townships (CSV), through
ingest, validation, merging and all seven reports: ≤ 60 s and ≤ 4 GB peak on 2 cores, beside the floor
(plain DuckDB reading the same CSVs and writing one CSV), measured in the same run.

    .venv/bin/python benchmarks/bench_run.py [--persons 1000000] [--townships 8]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import HUB, generate_ledgers, measure, print_table  # noqa: E402

FLOOR = """
import duckdb, sys
con = duckdb.connect()
con.execute(f"COPY (SELECT * FROM read_csv('{sys.argv[1]}/*.csv', all_varchar=true, union_by_name=true, filename=true)) TO '{sys.argv[2]}' (HEADER)")
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--townships", type=int, default=8)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hub-bench-run-"))
    try:
        data = generate_ledgers(work / "data", args.persons, args.townships, "csv")
        ledgers = work / "ledgers-only"
        ledgers.mkdir()
        for p in data.glob("*.csv"):
            if p.name != "divisions.csv":
                (ledgers / p.name).symlink_to(p)
        rows = [
            measure(
                f"floor: DuckDB reads every ledger CSV and writes one CSV ({args.persons:,} persons)",
                [sys.executable, "-c", FLOOR, str(ledgers), str(work / "floor.csv")],
            ),
            measure(
                f"`hub run --no-link` ({args.persons:,} persons, {args.townships} townships, 3 ledger kinds, 7 reports)",
                [
                    HUB,
                    "run",
                    str(data),
                    "--date",
                    "2026-11-30",
                    "--out",
                    str(work / "out"),
                    "--json",
                    "--no-link",
                ],
                env={"HUB_HOME": str(work / "home")},
            ),
            measure(
                "`hub run` with entity resolution (Splink trained and run over every record)",
                [HUB, "run", str(data), "--date", "2026-11-30", "--out", str(work / "out2"), "--json"],
                env={"HUB_HOME": str(work / "home2")},
            ),
        ]
        print_table(rows)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
