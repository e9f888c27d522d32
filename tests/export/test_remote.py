"""Report files written where their rows are (hub.export.remote), as Spark's executors write them:
each township's rows spilled as Parquet (``QueryEngine.spill``), each file written by another
process from them with the same writer. Run here with the store spilling (DuckDB's ``COPY …
PARTITION_BY``) and a pool of spawned processes as the executors, so the path is checked without a
JVM: every golden case writes the same files, byte for byte, as the store writing them itself; the
spilled rows are gone afterwards; a pool that fails leaves its files to the driver, none lost."""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from export_helpers import GOLDEN, run_golden_case

from hub.store.engine import Bound, EngineCapabilities, StoreEngine

CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "input.yaml").exists())


class SpillingStore(StoreEngine):
    """The store with a keyed report's rows spilled and its files written by other processes."""

    def __init__(self, pool: ProcessPoolExecutor | None) -> None:
        self.capabilities = EngineCapabilities("duckdb", "duckdb", batch_townships=True, writes_files=True)
        self.pool = pool
        self.spilled: list[Path] = []
        self.sent = 0

    def spill(self, sql: str, params: Bound, key: str) -> Any:
        folder, schema = super().spill(sql, params, key)
        self.spilled.append(folder)
        return folder, schema

    def map_files(self, stage: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        if self.pool is None:
            raise RuntimeError("lost executor")
        self.sent += len(items)
        return list(self.pool.map(stage, items))


@pytest.fixture(scope="module")
def pool() -> Any:
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as executors:
        yield executors


def digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("name", CASES)
def test_files_written_by_other_processes_are_the_stores_byte_for_byte(
    name: str, tmp_path: Path, pool: ProcessPoolExecutor
) -> None:
    engine = SpillingStore(pool)
    there = run_golden_case(name, tmp_path / "there", engine)
    here = run_golden_case(name, tmp_path / "here")
    assert there == here  # every cell, records, cells delivered, problems
    assert digests(tmp_path / "there") == digests(tmp_path / "here")
    assert engine.sent == len(there) > 0 or not engine.spilled  # a county report is not keyed
    assert all(not folder.exists() for folder in engine.spilled)  # the spilled rows removed


def test_files_the_executors_could_not_write_are_written_here(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = SpillingStore(None)
    with caplog.at_level(logging.WARNING, logger="hub.export.remote"):
        there = run_golden_case("MZ-DIBAO", tmp_path / "there", engine)
    assert "改为本机写出" in caplog.text and "lost executor" in caplog.text
    assert there == run_golden_case("MZ-DIBAO", tmp_path / "here")
    assert len(there) == 2 and all(not folder.exists() for folder in engine.spilled)
