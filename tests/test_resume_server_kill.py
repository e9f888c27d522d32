"""`kill -9` of `hub serve` in the middle of an upload job (issue 11): the server comes back, the
clerk uploads the same files again, and the store ends as one uninterrupted ingest of them leaves it
(the same counts and findings, nothing unfinished, no scratch tables, the annotated copies whole),
with no reader or fork server left behind by the killed server."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import SAMPLE
from tests.resume_helpers import hub, hub_env, store_snapshot
from tests.test_cli_beside_server import Server

pytestmark = pytest.mark.slow

FILES = [SAMPLE / "青山镇_人口台账_2026.xlsx", SAMPLE / "青山镇_残疾人台账_2026.xlsx"]
PASSWORD = "Qingshan-2026-test"
COUNTS = ("submissions", "rows", "accepted", "rejected", "errors", "warnings", "unfinished")


def _csrf(html: str) -> str:
    import re

    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


class Served(Server):
    """The server of the clerk ``qs`` of 青山镇 (``_home``), with her login and upload."""

    def __init__(self, home: Path, log: Path, **env: str) -> None:
        super().__init__(home, log, hub_env(home, **env))

    def clerk(self) -> httpx.Client:
        c = httpx.Client(base_url=self.url, timeout=60)
        r = c.post(
            "/login",
            data={"username": "qs", "password": PASSWORD, "csrf_token": _csrf(c.get("/login").text)},
        )
        assert r.status_code == 303, r.text
        return c

    def upload(self, c: httpx.Client) -> str:
        parts = [("files", (f.name, f.read_bytes(), "application/octet-stream")) for f in FILES]
        r = c.post(
            "/clerk/upload",
            data={"csrf_token": _csrf(c.get("/clerk").text)},
            files=parts,
            headers={"Accept": "application/json"},
        )
        assert r.status_code == 200, r.text
        return str(r.json()["url"])


def _descendants(pid: int) -> list[int]:
    from tests.proctree import _children

    out, todo = [], [pid]
    while todo:
        kids = _children(todo.pop())
        out += kids
        todo += kids
    return out


def _alive(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def _wait_job(c: httpx.Client, url: str, timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = c.get(url, headers={"Accept": "application/json"}).json()
        if job["final"]:
            return dict(job)
        time.sleep(0.3)
    raise AssertionError(f"job {url} did not finish")


def _status(home: Path) -> dict[str, Any]:
    done = hub(home, "status", "--json")
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def _home(root: Path) -> Path:
    home = root / "hub-data"
    assert hub(home, "divisions", "load", str(SAMPLE / "divisions.csv")).returncode == 0
    added = hub(home, "users", "add", "qs", "--role", "clerk", "--township", "青山镇", "--password", PASSWORD)
    assert added.returncode == 0, added.stderr
    return home


@pytest.mark.parametrize("step", ["stored", "linking"])
def test_kill_9_of_the_server_during_an_upload_then_the_same_upload(tmp_path: Path, step: str) -> None:
    reference = _home(tmp_path / "reference")
    done = hub(reference, "ingest", *map(str, FILES), "--township", "青山镇", "--json")
    assert done.returncode == 1, done.stderr  # the samples hold deliberate errors
    want = _status(reference)

    home = _home(tmp_path / "killed")
    flag = tmp_path / "paused"
    first = Served(home, tmp_path / "serve.log", HUB_TEST_PAUSE_AT=step, HUB_TEST_PAUSE_FILE=str(flag))
    try:
        first.upload(first.clerk())
        deadline = time.monotonic() + 600
        while not flag.exists() and first.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert flag.exists(), (tmp_path / "serve.log").read_text()[-3000:]
        left = _descendants(first.proc.pid)  # the fork server (and any reader) of the killed server
        os.kill(first.proc.pid, signal.SIGKILL)
        first.proc.wait()
    finally:
        first.stop()
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in left) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in left), "a process of the killed server outlived it"
    assert _status(home)["unfinished"], "the kill came after the rows were stored"

    again = Served(home, tmp_path / "serve.log")
    try:
        c = again.clerk()
        job = _wait_job(c, again.upload(c))
    finally:
        again.stop()
    assert job["status"] == "done", job
    assert [r["status"] for r in job["reports"]] == ["ingested", "ingested"], job["reports"]
    got = _status(home)
    assert {k: got[k] for k in COUNTS} == {k: want[k] for k in COUNTS}
    snap = store_snapshot(home)
    assert snap["scratch"] == []
    assert len(snap["annotated"]) == 2  # whole (store_snapshot opens each), one per file
    third = Served(home, tmp_path / "serve.log")
    try:
        c = third.clerk()
        job = _wait_job(c, third.upload(c))
    finally:
        third.stop()
    assert [r["status"] for r in job["reports"]] == ["unchanged", "unchanged"], job["reports"]
