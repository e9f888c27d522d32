"""Report admission tests: a private copy of schemas/ and mappings/ (admission writes to both), a
store with the sample divisions (bare) or with 青山镇's ledgers merged (seeded, built once)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.paths import REPO_ROOT
from tests.shared import build_once

SAMPLE = REPO_ROOT / "sample_data"
DRAFTS = REPO_ROOT / "tests" / "data" / "admission"
SEEDED = [
    SAMPLE / "青山镇_人口台账_2026.xlsx",
    SAMPLE / "青山镇_低保花名册_2026年11月.xlsx",
    SAMPLE / "青山镇_残疾人台账_2026.xlsx",
]


def _store(home: Path, files: list[Path]) -> Path:
    from hub.facade import Hub

    hub = Hub(home)
    hub.load_divisions(SAMPLE / "divisions.csv")
    if files:
        hub.ingest(files, township="331099101", annotate=False)
        hub.merge()
    hub.close()
    return home


@pytest.fixture(scope="session")  # built once per run for every worker, copied per test
def bare_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_once(tmp_path_factory, "admission-bare", lambda home: _store(home, []))


@pytest.fixture(scope="session")  # built once per run for every worker, copied per test
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_once(tmp_path_factory, "admission-seeded", lambda home: _store(home, SEEDED))


def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Path) -> Path:
    for name in ("schemas", "mappings"):
        shutil.copytree(REPO_ROOT / name, tmp_path / name)
    monkeypatch.setenv("HUB_SCHEMAS", str(tmp_path / "schemas"))
    monkeypatch.setenv("HUB_MAPPINGS", str(tmp_path / "mappings"))
    home = tmp_path / "home"
    shutil.copytree(store, home)
    monkeypatch.setenv("HUB_HOME", str(home))
    monkeypatch.chdir(tmp_path)
    from hub.export.catalog import load_entitlements

    load_entitlements.cache_clear()
    return tmp_path


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bare_store: Path) -> Path:
    return _env(tmp_path, monkeypatch, bare_store)


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seeded_store: Path) -> Path:
    return _env(tmp_path, monkeypatch, seeded_store)


def write_draft(path: Path, title: str, columns: list[Any], **meta: Any) -> Path:
    path.write_text(
        yaml.safe_dump({"title": title, "columns": columns, **meta}, allow_unicode=True), encoding="utf-8"
    )
    return path
