"""Issue 2 targets: ingest + validation of a 1,000,000-row CSV (≤ 15 s, ≤ 3 GB) and of a 50,000-row
xlsx (≤ 3 s), beside the floor (plain DuckDB reading the same CSV and writing it back), and
`hub --help` (≤ 1 s). Every figure is measured in a fresh child process in the same run.

    .venv/bin/python benchmarks/bench_ingest.py [--persons 1000000] [--xlsx-persons 50000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import HUB, generate_ledgers, measure, print_table  # noqa: E402

FLOOR = """
import duckdb, sys
con = duckdb.connect()
con.execute(f"COPY (SELECT * FROM read_csv('{sys.argv[1]}', all_varchar=true, header=false, skip=2)) TO '{sys.argv[2]}' (HEADER)")
"""


def generate(out: Path, persons: int, fmt: str) -> list[Path]:
    return sorted(generate_ledgers(out, persons, 1, fmt).glob("population_*"))


def load_divisions(home: Path, divisions: Path) -> Path:
    subprocess.run(
        [HUB, "divisions", "load", str(divisions)],
        env={**os.environ, "HUB_HOME": str(home)},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return home


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--xlsx-persons", type=int, default=50_000)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hub-bench-"))
    try:
        rows = [measure("`hub --help`", [HUB, "--help"])]
        csvs = generate(work / "csv", args.persons, "csv")
        home = load_divisions(work / "home-csv", work / "csv" / "divisions.csv")
        rows.append(
            measure(
                f"floor: DuckDB read + write CSV, {args.persons:,} rows",
                [sys.executable, "-c", FLOOR, str(csvs[0]), str(work / "floor.csv")],
            )
        )
        rows.append(
            measure(
                f"`hub ingest` CSV, {args.persons:,} rows (read, validate every cell, store; no annotated copy)",
                [HUB, "ingest", str(csvs[0]), "--json", "--no-annotate", "--no-link"],
                env={"HUB_HOME": str(home)},
            )
        )
        xlsx = generate(work / "xlsx", args.xlsx_persons, "xlsx")
        for label, extra in (("", ["--no-annotate"]), (", with the annotated copy of the workbook", [])):
            home = load_divisions(work / f"home-xlsx{len(extra)}", work / "xlsx" / "divisions.csv")
            rows.append(
                measure(
                    f"`hub ingest` xlsx, {args.xlsx_persons:,} rows × 12 columns{label}",
                    [HUB, "ingest", str(xlsx[0]), "--json", "--no-link", *extra],
                    env={"HUB_HOME": str(home)},
                )
            )
        print_table(rows)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
