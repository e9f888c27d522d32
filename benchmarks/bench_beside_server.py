"""The CLI beside `hub serve`: wall time of `hub status --json` and `hub users list --json` run as
processes alone (the store free) and beside a running server (through the local admin channel).

    .venv/bin/python benchmarks/bench_beside_server.py [--runs 5]

Prints one JSON object: median seconds per command and mode. Figures in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import SAMPLE  # noqa: E402
from tests.test_cli_beside_server import Server, hub  # noqa: E402


def _median(home: Path, runs: int, *args: str) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = hub(home, *args)
        times.append(time.perf_counter() - start)
        assert result.returncode == 0, result.stderr
    return round(statistics.median(times), 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    from hub.facade import Hub
    from hub.serve.accounts import add_user

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "hub-data"
        h = Hub(home)
        h.load_divisions(SAMPLE / "divisions.csv")
        add_user(h.db, "steward", "steward", password="correct-horse-1")
        h.close()
        out: dict[str, float] = {}
        for command in (("status", "--json"), ("users", "list", "--json")):
            out[f"alone: hub {' '.join(command)}"] = _median(home, runs, *command)
        server = Server(home, Path(tmp) / "serve.log")
        try:
            for command in (("status", "--json"), ("users", "list", "--json")):
                out[f"beside hub serve: hub {' '.join(command)}"] = _median(home, runs, *command)
        finally:
            server.stop()
    print(json.dumps({"runs": runs, "median_seconds": out}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
