"""Issue 10 target: column recognition adds ≤ 10 % to the ingest time of the 1M-person benchmark.

Generates the same 1,000,000-row population CSV as ``bench_ingest.py``, then, in one process:

* the time of ``hub.ingest.stage_file`` on it, and inside it the time spent in column recognition
  (``hub.ingest.columns.recognise``: header scoring, the value sample and its detectors, neighbours,
  assignment) and in the header matcher's layout lookups, by wrapping those functions with a timer;
* in a fresh child process, the whole ``hub ingest --no-annotate --no-link`` of the file, as
  ``bench_ingest.py`` measures it.

Recognition reads a bounded sample (at most 1,200 rows per column), so its cost does not grow with the
file; the share printed is recognition ÷ the whole ingest.

    .venv/bin/python benchmarks/bench_recognition.py [--persons 1000000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_ingest import generate, load_divisions  # noqa: E402
from harness import HUB, measure, print_table  # noqa: E402

SPENT: dict[str, float] = {}


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            SPENT[name] = SPENT.get(name, 0.0) + time.perf_counter() - t0

    return wrapper


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hub-bench-rec-"))
    try:
        csv = generate(work / "csv", args.persons, "csv")[0]
        divisions = work / "csv" / "divisions.csv"

        import hub.ingest.layout as layout
        from hub.ingest import Divisions, read_divisions_csv, stage_file
        from hub.ingest.columns.headers import HeaderMatcher
        from hub.model import load_schema

        layout.recognise = timed("recognise", layout.recognise)
        HeaderMatcher.lookup = timed("header lookups", HeaderMatcher.lookup)  # type: ignore[method-assign]
        schema = load_schema()
        divs = Divisions(read_divisions_csv(divisions))
        t0 = time.perf_counter()
        staged = stage_file(csv, schema, divs)
        stage_s = time.perf_counter() - t0
        rows = sum(s.data.num_rows for s in staged.sheets)

        home = load_divisions(work / "home", divisions)
        whole = measure(
            f"`hub ingest` CSV, {args.persons:,} rows (no annotated copy, no linkage)",
            [HUB, "ingest", str(csv), "--json", "--no-annotate", "--no-link"],
            env={"HUB_HOME": str(home)},
        )
        print_table([whole])
        recognition = SPENT.get("recognise", 0.0) + SPENT.get("header lookups", 0.0)
        print(f"\nrows staged: {rows:,}")
        print(f"stage_file (read, layout, recognition, kind): {stage_s:.2f} s")
        for name, s in SPENT.items():
            print(f"  of which {name}: {s:.3f} s")
        print(
            f"recognition ÷ whole ingest: {recognition:.3f} s ÷ {whole.seconds:.2f} s = {recognition / whole.seconds:.1%}"
        )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
