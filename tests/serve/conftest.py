"""Fixtures for the web application: a fresh workspace with the sample divisions, one account per
role (two clerks of different townships, two departments), and logged-in clients."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.paths import REPO_ROOT
from hub.serve.accounts import add_user
from hub.serve.app import create_app
from tests.shared import build_once

SAMPLE = REPO_ROOT / "sample_data"
QINGSHAN, CHENGGUAN = "331099101", "331099001"
PASSWORD = "correct-horse-1"
USERS = {
    "qs_clerk": ("clerk", QINGSHAN, None),
    "cg_clerk": ("clerk", CHENGGUAN, None),
    "mz_user": ("department", None, "民政"),
    "ga_user": ("department", None, "公安"),
    "steward": ("steward", None, None),
}
SEEDED = [
    SAMPLE / "青山镇_人口台账_2026.xlsx",
    SAMPLE / "青山镇_低保花名册_2026年11月.xlsx",
    SAMPLE / "青山镇_残疾人台账_2026.xlsx",
]


@pytest.fixture
def mappings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of mappings/ (publishing writes there)."""
    target = tmp_path / "mappings"
    shutil.copytree(REPO_ROOT / "mappings", target)
    monkeypatch.setenv("HUB_MAPPINGS", str(target))
    return target


def _workspace(home: Path, files: list[Path]) -> Path:
    from hub.facade import Hub

    hub = Hub(home)
    hub.load_divisions(SAMPLE / "divisions.csv")
    for name, (role, town, dept) in USERS.items():
        add_user(hub.db, name, role, township=town, dept=dept, password=PASSWORD)
    if files:
        hub.ingest(files, township=QINGSHAN)
        hub.merge()
    hub.close()
    return home


@pytest.fixture(scope="session")
def bare_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Divisions and accounts, no data (built once per run for every worker, copied per test)."""
    return build_once(tmp_path_factory, "serve-bare", lambda home: _workspace(home, []))


@pytest.fixture(scope="session")
def seeded_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Divisions, accounts and 青山镇's population, 低保 and disability ledgers, merged (built once per
    run for every worker, copied per test)."""
    return build_once(tmp_path_factory, "serve-seeded", lambda home: _workspace(home, SEEDED))


def _app(source: Path, target: Path) -> Iterator[Any]:
    shutil.copytree(source, target)
    application = create_app(target)
    yield application
    application.state.hub_state.jobs.shutdown()
    application.state.hub_state.hub.close()


@pytest.fixture
def app(tmp_path: Path, mappings: Path, bare_home: Path) -> Iterator[Any]:
    yield from _app(bare_home, tmp_path / "home")


@pytest.fixture
def loaded(tmp_path: Path, mappings: Path, seeded_home: Path) -> Iterator[Any]:
    """An app over the seeded store."""
    yield from _app(seeded_home, tmp_path / "home")


@pytest.fixture
def client(app: Any) -> TestClient:
    return TestClient(app)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def login(app: Any, name: str, password: str = PASSWORD) -> TestClient:
    c = TestClient(app)
    page = c.get("/login")
    r = c.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return c


def page_csrf(c: TestClient, path: str) -> str:
    r = c.get(path)
    assert r.status_code == 200, r.text
    return csrf_of(r.text)


def upload(c: TestClient, *files: Path, timeout: float = 180) -> dict[str, Any]:
    """Upload through the page's form and wait for the background job; returns the job."""
    token = page_csrf(c, "/clerk")
    parts = [("files", (f.name, f.read_bytes(), "application/octet-stream")) for f in files]
    r = c.post(
        "/clerk/upload", data={"csrf_token": token}, files=parts, headers={"Accept": "application/json"}
    )
    assert r.status_code == 200, r.text
    url = r.json()["url"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = c.get(url, headers={"Accept": "application/json"}).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError("upload job did not finish")
