"""A batch of files to read and validate as a province's upload would bring them: the sample
ledgers, ledgers laid out with real public forms' header spellings (tests/data/real_headers, dev
split, through hub.synth.unseen; half of them GBK CSV) and workbooks shipped by other projects' test
suites (tests/data/foreign_workbooks, every 24th)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from hub.ingest import Divisions
from hub.model import Schema
from hub.store.db import Database
from hub.validate import Place
from tests.conftest import SAMPLE

FOREIGN = Path(__file__).resolve().parent / "data" / "foreign_workbooks"


def mixed_batch(folder: Path, unseen: int) -> list[Path]:
    """The sample ledgers, ``unseen`` real-header ledgers written into ``folder``, foreign workbooks."""
    from hub.synth.unseen import Knobs, sources_of, write_ledger

    dev = sources_of("dev")
    written = [
        Path(write_ledger(folder, dev[s], replace(Knobs(), fmt=("xlsx", "csv")[i % 2]), i, township=i).path)
        for i, s in enumerate(sorted(dev)[:unseen])
    ]
    foreign = sorted(p for p in FOREIGN.rglob("*.xls*") if p.is_file())[::24]
    return sorted(p for p in SAMPLE.iterdir() if p.suffix in (".xlsx", ".csv")) + written + foreign


def store_with(divisions: Divisions) -> Database:
    """A store (in memory) holding ``divisions``: what validation reads of one (``Place.of``)."""
    store = Database(None)
    divisions.save(store)
    return store


def place_of(divisions: Divisions) -> Place:
    store = store_with(divisions)
    try:
        return Place.of(store)
    finally:
        store.close()


def reading_stage(schema: Schema, divisions: Divisions, place: Place, today: date) -> Any:
    """What an ingest sends the executors for each file (picklable): read it, then validate it."""
    from hub.ingest.parallel import stage_one

    return partial(
        stage_one, schema=schema, divisions=divisions, township=None, mappings={}, place=place, today=today
    )
