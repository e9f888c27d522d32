"""Validation where a file is read (hub.validate.validate_file): in the ingest's reading thread, or in
the Spark task that read the file on an executor. Its results must be the store's own pass, row by
row and finding by finding, and the ingest must store them as they are; where the pass cannot run
there, the store runs it, and the clerk's report is the same.

The files: the sample ledgers, ledgers laid out with real public forms' header spellings
(tests/data/real_headers, dev split, through hub.synth.unseen) and workbooks shipped by other
projects' test suites (tests/data/foreign_workbooks)."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from hub.errors import IngestError
from hub.ingest import Divisions, read_divisions_csv
from hub.ingest.parallel import stage_one
from hub.ingest.types import StagedFile
from hub.model import Schema, load_schema
from hub.store.db import Database
from hub.validate import Place, validate_sheet
from tests.batches import mixed_batch, reading_stage, store_with
from tests.conftest import SAMPLE

TODAY = date(2026, 11, 30)


@pytest.fixture(scope="module")
def county(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Schema, Divisions, Database, list[Path]]]:
    schema = load_schema()
    divisions = Divisions(read_divisions_csv(SAMPLE / "divisions.csv", schema), schema)
    store = store_with(divisions)  # the store's tables, the county's divisions in it
    yield schema, divisions, store, mixed_batch(tmp_path_factory.mktemp("ledgers"), unseen=6)
    store.close()


def test_a_file_validated_in_another_process_has_the_store_passes_results(county: Any) -> None:
    """The stage an executor is sent (pickled, run in a fresh process with its own hash seed) gives,
    sheet by sheet, exactly the rows and findings the store's pass gives."""
    schema, divisions, store, paths = county
    stage = reading_stage(schema, divisions, Place.of(store), TODAY)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as executor:
        there = list(executor.map(stage, paths))
    checked = findings = 0
    for path, staged in zip(paths, there, strict=True):
        if isinstance(staged, IngestError) or staged.held or not staged.sheets:
            assert not isinstance(staged, StagedFile) or staged.validated is None, path.name
            continue
        assert staged.validated_on == TODAY and staged.validated is not None, path.name
        for sheet, got in zip(staged.sheets, staged.validated, strict=True):
            want = validate_sheet(store, sheet, schema, TODAY)
            assert got.rows.equals(want.rows), (path.name, sheet.sheet)
            assert got.findings.equals(want.findings), (path.name, sheet.sheet)
            checked += 1
            findings += want.findings.num_rows
    assert checked >= 14 and findings >= 50  # the samples alone have dozens of findings
    # the villages were there: the sample ledgers' village names became codes
    assert any(
        v.rows.column("village_code").null_count < v.rows.num_rows
        for s in there
        if isinstance(s, StagedFile) and s.validated
        for v in s.validated
    )


class Executors:
    """An engine's executors, in this process: three files at a time, each task's result kept."""

    def __init__(self) -> None:
        self.results: list[Any] = []

    def files_at_once(self) -> int:
        return 3

    def map_files(self, fn: Any, items: Any) -> list[Any]:
        got = [fn(item) for item in items]
        self.results += got
        return got

    def close(self) -> None:
        pass


def _ingest(home: Path, monkeypatch: pytest.MonkeyPatch, paths: list[Path], **kw: Any) -> list[Any]:
    from hub.facade import Hub

    monkeypatch.setenv("HUB_HOME", str(home))
    hub = Hub(home)
    engine = kw.pop("engine", None)
    if engine is not None:
        hub._engine = engine  # where the files are read: the engine's executors
    try:
        hub.load_divisions(SAMPLE / "divisions.csv")
        return [r.to_dict() for r in hub.ingest(paths, today=TODAY, annotate=False, link=False, **kw)]
    finally:
        hub.close()


def test_the_executors_validate_what_they_read_and_the_store_keeps_it(
    hub_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ingest on an engine with executors sends them the stage that validates; the clerk's reports
    are those of an ingest on one machine, finding by finding."""
    paths = sorted(p for p in SAMPLE.iterdir() if p.suffix in (".xlsx", ".csv"))
    here = _ingest(hub_home / "here", monkeypatch, paths)
    executors = Executors()
    there = _ingest(hub_home / "there", monkeypatch, paths, engine=executors)
    read = [s for s in executors.results if isinstance(s, StagedFile) and s.sheets and not s.held]
    assert len(read) >= 9 and all(s.validated_on == TODAY and s.validated for s in read)
    assert sum(r["rejected"] for r in here) > 0
    for a, b in zip(here, there, strict=True):
        a.pop("submission_id"), b.pop("submission_id")
        assert a == b, a["file"]


def test_a_pass_that_cannot_run_where_read_is_run_by_the_store(
    hub_home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, county: Any
) -> None:
    """The task's DuckDB fails (as on running out of memory): the file goes on unvalidated, the
    ingest's unit validates it in the store, and the clerk's report is what it would have been."""
    import hub.validate as validation

    schema, divisions, store, _ = county
    ledger = SAMPLE / "青山镇_低保花名册_2026年11月.xlsx"
    [normal] = _ingest(hub_home / "a", monkeypatch, [ledger])
    broken = Database(None, ddl=False)
    broken.close()  # every statement on it fails with a duckdb error
    monkeypatch.setattr(validation, "_own_db", lambda: broken)
    with caplog.at_level(logging.WARNING, logger="hub.validate"):
        staged = stage_one(ledger, schema, divisions, None, {}, Place.of(store), TODAY)
    assert isinstance(staged, StagedFile) and staged.validated is None
    assert "改在入库时校验" in caplog.text and ledger.name in caplog.text
    [fallback] = _ingest(hub_home / "b", monkeypatch, [ledger], staged={ledger: staged})
    assert normal["status"] == fallback["status"] == "ingested" and normal["rejected"] > 0
    normal.pop("submission_id"), fallback.pop("submission_id")
    assert normal == fallback  # every count and finding, cell by cell
