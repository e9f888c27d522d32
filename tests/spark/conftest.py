"""The Spark suite (``make test-spark``; excluded from ``make test``): one Spark session for the
whole run, on ``HUB_SPARK_MASTER`` (``local[2]`` by default; CI starts a standalone master and one
worker on 127.0.0.1 and points this at it)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "export"))

pytest.importorskip("pyspark")


@pytest.fixture(scope="session")
def spark_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from hub.store.spark import SparkEngine

    engine = SparkEngine(tmp_path_factory.mktemp("warehouse"))
    yield engine
    engine.close()
