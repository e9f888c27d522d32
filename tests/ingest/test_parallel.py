"""Reading an ingest's files ahead of the store (hub.ingest.parallel): in order, a window at a time
on the engine's executors, and never a file lost when the executors fail (read here instead)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from hub.errors import IngestError
from hub.ingest import Divisions
from hub.ingest.parallel import stage_one, staged_in_order
from hub.ingest.types import StagedFile
from hub.model import Schema
from tests.conftest import SAMPLE

PATHS = [Path(f"f{i}.xlsx") for i in range(7)]


def test_every_file_comes_back_in_order_and_the_given_are_not_read_again() -> None:
    local: list[Path] = []
    batches: list[list[Path]] = []

    def stage(p: Path) -> str:
        local.append(p)
        return f"here:{p.name}"

    def many(fn: Any, paths: Sequence[Path]) -> list[str]:
        batches.append(list(paths))
        return [f"there:{p.name}" for p in paths]

    got = list(staged_in_order(PATHS, stage, given={PATHS[2]: "given"}, many=many, window=3))
    assert got == [
        "there:f0.xlsx", "there:f1.xlsx", "given",
        "there:f3.xlsx", "there:f4.xlsx", "there:f5.xlsx",
        "here:f6.xlsx",  # one file left to read: read here, no job for it
    ]  # fmt: skip
    assert batches == [PATHS[0:2], PATHS[3:6]]
    assert local == [PATHS[6]]


def test_a_window_the_executors_could_not_read_is_read_here(caplog: pytest.LogCaptureFixture) -> None:
    def many(fn: Any, paths: Sequence[Path]) -> list[str]:
        if PATHS[4] in paths:
            raise RuntimeError("Python worker exited unexpectedly (crashed)")
        return [f"there:{p.name}" for p in paths]

    with caplog.at_level(logging.WARNING, logger="hub.ingest.parallel"):
        got = list(staged_in_order(PATHS, lambda p: f"here:{p.name}", many=many, window=3))
    assert got == [f"there:f{i}.xlsx" for i in range(3)] + [f"here:f{i}.xlsx" for i in range(3, 7)]
    assert "改为本机读取" in caplog.text and "Python worker exited" in caplog.text


def test_no_executors_reads_one_ahead_here() -> None:
    got = list(staged_in_order(PATHS, lambda p: p.stem))
    assert got == [p.stem for p in PATHS]
    assert list(staged_in_order([], lambda p: p)) == []


def test_the_stage_an_executor_is_sent_gives_what_the_ingest_reads(
    tmp_path: Path, schema: Schema, divisions: Divisions
) -> None:
    """The picklable stage: a file read, or the IngestError refusing it (returned, not raised)."""
    import pickle

    broken = tmp_path / "坏文件.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    stage = partial(stage_one, schema=schema, divisions=divisions, township=None, mappings={})
    stage = pickle.loads(pickle.dumps(stage))  # what goes to an executor
    ledger = sorted(SAMPLE.glob("*.xlsx"))[0]
    read = stage(ledger)
    assert isinstance(read, StagedFile) and read.sheets and read.path == str(ledger)
    refused = stage(broken)
    assert isinstance(refused, IngestError) and refused.file == broken.name and refused.message


RECOGNISED = """
import json, sys
from hub.ingest import Divisions, read_divisions_csv, stage_file
from hub.model import load_schema
from tests.conftest import SAMPLE
schema = load_schema()
divisions = Divisions(read_divisions_csv(SAMPLE / "divisions.csv", schema), schema)
out = {}
for path in sorted(SAMPLE.glob("*_*.*")):
    staged = stage_file(path, schema, divisions)
    out[path.name] = [[c.header, c.field, c.confidence, c.alternatives] for s in staged.sheets for c in s.columns]
print(json.dumps(out, ensure_ascii=False))
"""


def test_an_executor_recognises_the_columns_as_the_driver_does() -> None:
    """Another process (an executor) has another string hash seed: the recogniser must not depend on
    a set's order (it did: two fields tied in one column were listed, and could be chosen, in hash
    order; found by tests/spark/test_read_spark.py)."""
    import json
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    runs = [
        subprocess.run(
            [sys.executable, "-c", RECOGNISED],
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)},
            capture_output=True,
            text=True,
            check=True,
            cwd=root,
        ).stdout
        for seed in ("1", "2", "3")
    ]
    assert json.loads(runs[0]) and runs[0] == runs[1] == runs[2]
