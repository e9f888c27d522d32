"""Shared fixtures: an isolated workspace per test and a CLI runner."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import tests.shared  # noqa: F401  (registers the hypothesis profile "full" before the plugin loads it)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
LEDGERS = sorted(p for p in SAMPLE.iterdir() if p.suffix in {".xlsx", ".csv"} and p.name != "divisions.csv")


def store_rows(home: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on the store of ``home``, opened as the hub opens it (the CLI run in this
    process may still hold it)."""
    from hub.store.db import Database

    db = Database(home / "hub.duckdb")
    try:
        return [tuple(r) for r in db.rows(sql)]
    finally:
        db.close()


os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests.shared.group_for_xdist(config, items)  # xdist_group across pytest 9 (see its docstring)


@pytest.fixture
def hub_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "hub-data"
    monkeypatch.setenv("HUB_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    yield home


class Cli:
    """Runs `hub` in-process through Typer's runner, as a user would type it."""

    def __init__(self) -> None:
        from cli import app

        self.app = app
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Any:
        return self.runner.invoke(self.app, [str(a) for a in args], catch_exceptions=False)

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.exit_code in (0, 1), result.output
        return json.loads(result.stdout), result.exit_code


@pytest.fixture
def cli(hub_home: Path) -> Cli:
    return Cli()


@pytest.fixture(scope="session")
def sample_ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """A workspace after `hub divisions load` and `hub ingest <every sample ledger> --no-annotate` (with
    linkage), built once per test process: the workspace (never to be changed: copy it with
    ``use_workspace``) and the ingest's JSON reports. The tests sharing it are in the xdist group
    "sample_ingest" so that one worker builds it."""
    tmp = tmp_path_factory.mktemp("sample_ingested")
    home = tmp / "hub-data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUB_HOME", str(home))
        mp.chdir(tmp)
        cli = Cli()
        assert cli("divisions", "load", SAMPLE / "divisions.csv").exit_code == 0
        reports, _ = cli.json("ingest", *LEDGERS, "--no-annotate")
    return home, reports


def use_workspace(template: Path, hub_home: Path) -> None:
    """Make ``hub_home`` (the test's HUB_HOME) a copy of a workspace built once by a fixture."""
    shutil.copytree(template, hub_home)
