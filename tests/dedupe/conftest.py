"""Fixtures of the merge tests: an in-memory store and a way to add submissions to it."""

from __future__ import annotations

from typing import Any

import pytest
from dedupe_data import AddFn, add_submission

from hub.store.db import Database


@pytest.fixture
def db() -> Database:
    return Database(None)


@pytest.fixture
def add(db: Database) -> AddFn:
    def _add(sid: int, kind: str, rows: list[dict[str, Any]], **kw: Any) -> int:
        return add_submission(db, sid, kind, rows, **kw)

    return _add
