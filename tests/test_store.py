"""The store: DDL applies idempotently, transactions are all or nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.store.db import Database, open_store


def test_ddl_is_idempotent_and_creates_hub_tables(tmp_path: Path) -> None:
    db = open_store(tmp_path)
    db.apply_ddl()
    for table in ("hub_submissions", "hub_rows", "hub_findings", "hub_person", "hub_codes", "hub_conflicts"):
        assert db.table_exists(table), table
    db.close()
    again = open_store(tmp_path)
    assert again.table_exists("hub_rows")
    again.close()


def test_failed_transaction_leaves_store_as_it_was() -> None:
    db = Database(None)
    db.execute("INSERT INTO hub_divisions VALUES ('331099', '示例县', 'county', NULL, NULL)")
    with pytest.raises(RuntimeError), db.transaction():
        db.execute("INSERT INTO hub_divisions VALUES ('331099101', '青山镇', 'township', '331099', '镇')")
        raise RuntimeError("boom")
    assert db.scalar("SELECT count(*) FROM hub_divisions") == 1


def test_hub_prefix_on_every_owned_table() -> None:
    db = Database(None)
    names = [
        r[0]
        for r in db.rows("SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'")
    ]
    assert names and all(n.startswith("hub_") for n in names)
