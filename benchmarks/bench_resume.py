"""What resuming an interrupted ingest costs: `hub ingest` of the eight sample ledgers uninterrupted,
then killed (SIGKILL, through the test-only pause hook) at a step and run again, the second run's
wall time; and the recovery check every ingest now starts with, on a complete store.

    .venv/bin/python benchmarks/bench_resume.py

Prints one JSON object (seconds, and whether the resumed store equals the uninterrupted one). Figures
in docs/benchmarks.md ("Resuming an interrupted ingest").
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import SAMPLE  # noqa: E402
from tests.resume_helpers import hub, kill_at, store_snapshot  # noqa: E402

FILES = sorted(
    str(p) for p in SAMPLE.iterdir() if p.suffix in {".xlsx", ".csv"} and p.name != "divisions.csv"
)


def _home(root: Path, name: str) -> Path:
    home = root / name / "hub-data"
    assert hub(home, "divisions", "load", str(SAMPLE / "divisions.csv")).returncode == 0
    return home


def _timed(home: Path) -> float:
    start = time.perf_counter()
    done = hub(home, "ingest", *FILES, "--json")
    assert done.returncode in (0, 1), done.stderr
    return round(time.perf_counter() - start, 2)


def main() -> None:
    from hub.facade import Hub

    out: dict[str, object] = {"files": len(FILES)}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        whole = _home(root, "whole")
        out["uninterrupted_s"] = _timed(whole)
        want = store_snapshot(whole)
        start = time.perf_counter()
        again = hub(whole, "ingest", *FILES, "--json")
        out["unchanged_rerun_s"] = round(time.perf_counter() - start, 2)
        assert all(r["status"] == "unchanged" for r in json.loads(again.stdout))
        hub_ = Hub(whole)
        start = time.perf_counter()
        for _ in range(20):
            hub_._recover()
        out["recovery_check_ms"] = round((time.perf_counter() - start) / 20 * 1000, 1)
        hub_.close()
        for step in ("stored", "linking", "copy-written"):
            home = _home(root, step)
            kill_at(home, step, "ingest", *FILES, "--json")
            out[f"resumed_after_{step}_s"] = _timed(home)
            out[f"resumed_after_{step}_same_store"] = store_snapshot(home) == want
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
