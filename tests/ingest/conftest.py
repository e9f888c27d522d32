from __future__ import annotations

from pathlib import Path

import pytest

from hub.ingest import Divisions
from hub.ingest.divisions import make_division
from hub.model import Schema, load_schema

DIVISIONS = [
    ("330727", "磐安县"),
    ("330727101", "城关镇"),
    ("330727201", "双溪乡"),
    ("330727001", "安文街道"),
    ("330727101201", "城关村"),
    ("330727101202", "新渥村"),
    ("330727101001", "文溪社区"),
    ("330727201201", "双溪村"),
    ("330727201202", "梓誉村"),
]


@pytest.fixture(scope="session")
def schema() -> Schema:
    return load_schema()


@pytest.fixture(scope="session")
def divisions(schema: Schema) -> Divisions:
    return Divisions([make_division(c, n, schema) for c, n in DIVISIONS], schema)


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    return tmp_path
