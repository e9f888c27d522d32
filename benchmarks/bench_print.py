"""What marking flagged values costs an export: every report of a store written with the marks
(``_flag_<key>`` columns, fills, comments, 说明 sheet) and without (``flag_expr`` switched off),
alternately, ``--repeat`` times each; median seconds.

    python benchmarks/bench_print.py --home HUB_HOME [--date 2026-11-30] [--repeat 5]

``HUB_HOME`` is a store with data (e.g. after ``hub run sample_data``); it is copied, not changed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--date", default="2026-11-30")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    import hub.export.compile as compile_module
    from hub.facade import Hub

    real = compile_module.flag_expr
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        shutil.copytree(args.home, home)
        hub = Hub(home)
        ref = dt.date.fromisoformat(args.date)
        times: dict[str, list[float]] = {"marks": [], "no marks": []}
        files = {}
        for i in range(args.repeat * 2):
            mode = "marks" if i % 2 == 0 else "no marks"
            compile_module.flag_expr = real if mode == "marks" else (lambda tree, scope: None)  # type: ignore[assignment]
            out = Path(tmp) / f"out{i}"
            start = time.perf_counter()
            results = hub.export(ref_date=ref, out_dir=out)
            times[mode].append(time.perf_counter() - start)
            files[mode] = sum(1 for r in results if r.path)
        hub.close()
    for mode, values in times.items():
        print(
            f"{mode:9s} {files[mode]} files  median {statistics.median(values):.2f} s  (runs: {', '.join(f'{v:.2f}' for v in values)})"
        )


if __name__ == "__main__":
    main()
