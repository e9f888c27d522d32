"""What each test costs in CPU seconds, which a loaded machine does not inflate the way it does wall
time (docs/testing.md). A pytest plugin, and the table of what it recorded:

    PYTHONPATH=. HUB_TEST_COST=/tmp/cost .venv/bin/pytest -n 2 -p benchmarks.pytest_cost
    .venv/bin/python -m benchmarks.pytest_cost /tmp/cost [N]

Each test's CPU (its process and the child processes it waited for) and wall seconds, from its setup
to its teardown, go to ``<HUB_TEST_COST>.<worker>.tsv``; the table sums them per directory (top-level
files each on their own) and lists the N costliest tests with the worker that ran them: a group
fixture built on two workers shows as a costly first test on both.
"""

from __future__ import annotations

import collections
import glob
import os
import resource
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

_ROWS: list[tuple[str, float, float]] = []


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Any) -> Iterator[None]:
    cpu, wall = _cpu(), time.monotonic()
    yield
    _ROWS.append((item.nodeid, _cpu() - cpu, time.monotonic() - wall))


def pytest_sessionfinish(session: pytest.Session) -> None:
    out = os.environ.get("HUB_TEST_COST")
    if out and _ROWS:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(f"{out}.{worker}.tsv", "w", encoding="utf-8") as f:
            f.writelines(f"{n}\t{c:.3f}\t{w:.3f}\n" for n, c, w in _ROWS)


def _place(nodeid: str) -> str:
    parts = nodeid.split("::")[0].split("/")
    return "/".join(parts[:2]) if len(parts) > 2 else "/".join(parts)


def main(prefix: str, top: int = 0) -> None:
    rows = []
    for path in sorted(glob.glob(f"{prefix}.*.tsv")):
        worker = path.rsplit(".", 2)[1]
        with open(path, encoding="utf-8") as f:
            rows += [
                (n, float(c), float(w), worker) for n, c, w in (line.rstrip("\n").split("\t") for line in f)
            ]
    places: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0, 0.0])
    for nodeid, cpu, wall, _ in rows:
        place = places[_place(nodeid)]
        place[0] += 1
        place[1] += cpu
        place[2] += wall
    print(f"| {'where':36} | tests | CPU s | wall s |")
    for name, (count, cpu, wall) in sorted(places.items(), key=lambda kv: -kv[1][1]):
        print(f"| {name:36} | {count:5.0f} | {cpu:5.0f} | {wall:6.0f} |")
    print(
        f"| {'total':36} | {len(rows):5d} | {sum(r[1] for r in rows):5.0f} | {sum(r[2] for r in rows):6.0f} |"
    )
    for nodeid, cpu, wall, worker in sorted(rows, key=lambda r: -r[1])[:top]:
        print(f"{cpu:7.1f} {wall:7.1f} {worker:5} {nodeid}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0)
