"""Fixtures for the export tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from export_helpers import GOLDEN, load_rows  # noqa: E402

from hub.store.db import Database  # noqa: E402


@pytest.fixture
def db() -> Iterator[Database]:
    """An in-memory store holding the test county's divisions."""
    database = Database(None)
    load_rows(database, yaml.safe_load((GOLDEN / "divisions.yaml").read_text(encoding="utf-8")))
    yield database
    database.close()
