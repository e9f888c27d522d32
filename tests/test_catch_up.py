"""Before an export or the conflicts list the merged records are brought up to date
(:meth:`hub.facade.Hub.catch_up`): on an engine whose every merge is the full one (Spark), only when
`hub ingest` stored something since the last merge, not at every export (at 1M persons a full merge
on Spark is ~100 s; a department's daily pull would pay it each time)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hub.store.db import Database
from hub.store.engine import EngineCapabilities, StoreEngine
from tests.conftest import SAMPLE, Cli, store_rows


class FullMergeStore(StoreEngine):
    """The store, as an engine whose merge is always the full one; counts its merges."""

    merges = 0

    def __init__(self, db: Database):
        super().__init__(db)
        self.capabilities = EngineCapabilities("duckdb", "duckdb", incremental_merge=False)

    def merge(self, db: Database, now: datetime | None = None, full: bool = False) -> Any:
        type(self).merges += 1
        return super().merge(db, now, full=True)


def _persons(home: Path) -> int:
    return int(store_rows(home, "SELECT count(*) FROM hub_person")[0][0])


def test_an_export_merges_only_what_ingest_stored_since(
    cli: Cli, hub_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hub.store.engine.open_engine", lambda db, home, name=None: FullMergeStore(db))
    FullMergeStore.merges = 0
    cli.json("divisions", "load", str(SAMPLE / "divisions.csv"))
    cli.json("ingest", *map(str, sorted(SAMPLE.glob("城关街道_*"))), "--no-annotate")
    first, _ = cli.json("export", "--report", "GA-SYRK", "--out", str(tmp_path / "1"))
    persons = _persons(hub_home)
    assert FullMergeStore.merges == 1 and 0 < first[0]["records"] <= persons

    again, _ = cli.json("export", "--report", "GA-SYRK", "--out", str(tmp_path / "2"))
    cli.json("conflicts")
    assert FullMergeStore.merges == 1  # nothing stored since: the merged records are current
    assert again[0]["records"] == first[0]["records"]

    cli.json("ingest", *map(str, sorted(SAMPLE.glob("青山镇_人口*"))), "--no-annotate")
    more, _ = cli.json("export", "--report", "GA-SYRK", "--out", str(tmp_path / "3"))
    assert FullMergeStore.merges == 2
    assert _persons(hub_home) > persons and more[0]["records"] > first[0]["records"]
