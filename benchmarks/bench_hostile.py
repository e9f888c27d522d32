"""Hostile uploads (issue 11): each payload's wall time and peak RSS, in a fresh child process, for the
reader alone (``read_sheets``) and for ``hub ingest`` (``--no-link``; the 200,000-row file also with
linkage off and no annotated copy, the reader's part of the reported 10 GB).

Targets: no payload makes the reader allocate its dense range (a stray far cell costs what the
ledger costs); the 200,000-row duplicate-row xlsx is read with peak RSS ≤ 1.5 GB; 0 exit codes 70.

    .venv/bin/python benchmarks/bench_hostile.py [--skip-cli] [--big-only]
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
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness import HUB, ROOT, Measured, measure, print_table  # noqa: E402

from tests.ingest import hostile_payloads as hp  # noqa: E402

READ = """
import sys
from pathlib import Path
from hub.errors import HubError
from hub.ingest import read_sheets
try:
    read_sheets(Path(sys.argv[1]))
except HubError as exc:
    print(exc)
"""

BIG = {
    "duplicate rows 200,000 × 9 (xlsx)": "hp.duplicate_rows_xlsx(d, 200_000)",
    "rows 1,100,000 (xlsx, over Excel's limit)": (
        "hp.write_xlsx(d / 'rows.xlsx', (f'<row r=\"{r}\"><c r=\"A{r}\"><v>{r}</v></c></row>' "
        "for r in range(1, 1_100_001)))"
    ),
    "dense 200 × 16,384 cells (xlsx)": "hp.dense_wide(d, 200, 16_384)",
    "zip bomb 1.1 GB of zeros (xlsx)": "hp.zip_ratio_bomb(d, 1136)",
}
BUILD = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from tests.ingest import hostile_payloads as hp
d = Path(sys.argv[2])
print({expr})
"""


def build(expr: str, folder: Path) -> Path:
    """The payload built in a child process: the benchmark's own RSS stays small, so no child
    inherits it (Linux counts the parent's RSS at fork in a child's ``ru_maxrss``)."""
    out = subprocess.run(
        [sys.executable, "-c", BUILD.format(expr=expr), str(ROOT), str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-cli", action="store_true", help="measure the reader only")
    ap.add_argument("--big-only", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hub-hostile-"))
    rows: list[Measured] = []
    try:
        home = work / "home"
        subprocess.run(
            [HUB, "divisions", "load", str(ROOT / "sample_data" / "divisions.csv")],
            env={**os.environ, "HUB_HOME": str(home)},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        payloads = {} if args.big_only else {name: f"hp.{name}(d)" for name in hp.FAST}
        payloads.update(BIG)
        for name, expr in payloads.items():
            folder = work / str(len(rows))
            folder.mkdir()
            path = build(expr, folder)
            size = path.stat().st_size
            rows.append(
                measure(f"read: {name} ({size / 1024:,.0f} KB)", [sys.executable, "-c", READ, str(path)])
            )
            if not args.skip_cli:
                extra = ["--no-annotate"] if name in BIG else []
                rows.append(
                    measure(
                        f"`hub ingest --no-link`: {name}",
                        [HUB, "ingest", str(path), "--township", hp.TOWNSHIP, "--no-link", *extra],
                        env={"HUB_HOME": str(home)},
                    )
                )
        print_table(rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
