"""The clerks' files read and validated by Spark's executors with the same readers and the same
validation pass (issue 14, items 1 and 3): every file of a batch comes back as the driver would have
read it, sheet by sheet, with the same rows and findings, or refused with the same message; a file
that takes an executor's Python worker down is read again on the driver, never lost.

The files: the sample ledgers, workbooks shipped by other projects' test suites
(tests/data/foreign_workbooks), ledgers laid out with real public forms' header spellings
(tests/data/real_headers, through hub.synth.unseen) and a broken workbook."""

from __future__ import annotations

import logging
import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from hub.errors import IngestError
from hub.ingest import Divisions, read_divisions_csv
from hub.ingest.parallel import staged_in_order
from hub.ingest.types import StagedFile
from hub.model import Schema, load_schema
from tests.batches import mixed_batch, place_of, reading_stage
from tests.conftest import SAMPLE

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Any]:
    schema: Schema = load_schema()
    divisions = Divisions(read_divisions_csv(SAMPLE / "divisions.csv", schema), schema)
    folder = tmp_path_factory.mktemp("batch")
    broken = folder / "损坏的台账.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    paths = mixed_batch(folder, unseen=4) + [broken]
    # what the validation reads of a store (hub_rows columns, villages) sent along
    stage = reading_stage(schema, divisions, place_of(divisions), date(2026, 11, 30))
    return paths, stage


def same(a: StagedFile | IngestError, b: StagedFile | IngestError) -> bool:
    if isinstance(a, IngestError) or isinstance(b, IngestError):
        return type(a) is type(b) and (a.message, a.file, a.hint) == (b.message, b.file, b.hint)
    return (
        (a.path, a.sha256, a.cells, a.skipped_sheets, a.notes)
        == (b.path, b.sha256, b.cells, b.skipped_sheets, b.notes)
        and [(s.sheet, s.kind, s.township_code, s.columns) for s in a.sheets]
        == [(t.sheet, t.kind, t.township_code, t.columns) for t in b.sheets]
        and all(s.data.equals(t.data) for s, t in zip(a.sheets, b.sheets, strict=True))
        and [(h.sheet, h.rows) for h in a.held] == [(h.sheet, h.rows) for h in b.held]
        and a.validated_on == b.validated_on
        and [(v.rows, v.findings, v.extras) for v in a.validated or []]
        == [(v.rows, v.findings, v.extras) for v in b.validated or []]
    )


def test_the_executors_read_every_file_as_the_driver_does(spark_engine: Any, batch: Any) -> None:
    paths, stage = batch
    assert len(paths) >= 25
    there = spark_engine.map_files(stage, paths)  # one Spark task per file, nothing read on the driver
    here = [stage(p) for p in paths]
    assert len(there) == len(paths)
    assert sum(isinstance(s, StagedFile) for s in here) >= 12
    validated = [v for s in there if isinstance(s, StagedFile) for v in s.validated or []]
    assert len(validated) >= 12 and sum(v.findings.num_rows for v in validated) >= 50
    assert any(isinstance(s, IngestError) for s in here)  # the broken workbook, refused with its reason
    for path, a, b in zip(paths, there, here, strict=True):
        assert same(a, b), path.name


def test_a_file_that_takes_an_executor_down_is_read_on_the_driver(
    spark_engine: Any, batch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    paths, stage = batch
    driver = os.getpid()
    victim = paths[3].name

    def crashing(path: Path) -> Any:  # sent to the executors by value (cloudpickle)
        if path.name == victim and os.getpid() != driver:
            os._exit(3)  # the Python worker dies, as on a reader's native crash or the OOM killer
        return stage(path)

    with caplog.at_level(logging.WARNING, logger="hub.ingest.parallel"):
        got = list(
            staged_in_order(paths, crashing, many=spark_engine.map_files, window=spark_engine.files_at_once())
        )
    assert caplog.text.count("改为本机读取") == 1  # the victim's window only; the others on the executors
    assert len(got) == len(paths)
    for path, a in zip(paths, got, strict=True):
        assert same(a, stage(path)), path.name
