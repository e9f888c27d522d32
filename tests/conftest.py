"""Shared fixtures: an isolated workspace per test and a CLI runner."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")


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
