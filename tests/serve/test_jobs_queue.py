"""Upload jobs on the web (hub/serve/jobs.py): one township's long job never blocks another's, jobs
of many townships are served round robin, a clerk cancels her job and the store is as before, the
time limit stops a job, and shutdown stops the workers within seconds. A "long" job is made long by
holding its reading step (``Hub.stage``) on an event; everything else runs for real."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.serve.app import create_app
from tests.serve.conftest import QINGSHAN, SAMPLE, login, page_csrf

QS_FILE = SAMPLE / "青山镇_残疾人台账_2026.xlsx"
CG_FILE = SAMPLE / "城关街道_残疾人台账_2026.xlsx"


def start(c: TestClient, *files: Path) -> str:
    token = page_csrf(c, "/clerk")
    parts = [("files", (f.name, f.read_bytes(), "application/octet-stream")) for f in files]
    r = c.post(
        "/clerk/upload", data={"csrf_token": token}, files=parts, headers={"Accept": "application/json"}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["url"])


def job_of(c: TestClient, url: str) -> dict[str, Any]:
    r = c.get(url, headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    return dict(r.json())


def wait(c: TestClient, url: str, until: Any = lambda j: j["final"], timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = job_of(c, url)
        if until(job):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {url} did not get there: {job_of(c, url)}")


class Gate:
    """Holds the reading step of one township's jobs until opened."""

    def __init__(self, app: Any, township: str) -> None:
        self.open, self.entered = threading.Event(), threading.Event()
        hub = app.state.hub_state.hub
        real = hub.stage

        def stage(paths: Any, *, township: str | None = None, columns: Any = None) -> Any:
            if township == self.township:
                self.entered.set()
                assert self.open.wait(60)
            return real(paths, township=township, columns=columns)

        self.township = township
        hub.stage = stage


def submissions(app: Any) -> list[tuple[Any, ...]]:
    return list(
        app.state.hub_state.hub.db.rows("SELECT submission_id, file_name FROM hub_submissions ORDER BY 1")
    )


@pytest.fixture
def fresh(tmp_path: Path, mappings: Path, bare_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An app over the bare workspace, with the environment of the test (workers, time limit)."""

    def make(**env: str) -> Any:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        shutil.copytree(bare_home, tmp_path / "home")
        made.append(create_app(tmp_path / "home"))
        return made[-1]

    made: list[Any] = []
    yield make
    for application in made:
        application.state.hub_state.jobs.shutdown()
        application.state.hub_state.hub.close()


def test_a_long_job_of_one_township_does_not_block_another(fresh: Any) -> None:
    app = fresh()
    gate = Gate(app, QINGSHAN)
    qs, cg = login(app, "qs_clerk"), login(app, "cg_clerk")
    long_url = start(qs, QS_FILE)
    assert gate.entered.wait(30)
    assert job_of(qs, long_url)["status_text"] == "正在读取文件"
    other = wait(cg, start(cg, CG_FILE))
    assert other["status"] == "done" and other["reports"][0]["status"] == "ingested"
    assert not job_of(qs, long_url)["final"]  # still held while 城关街道's upload went through
    page = qs.get(long_url.replace("/clerk/jobs/", "/clerk/jobs/"))
    assert "正在读取文件" in page.text and "取消此任务" in page.text
    gate.open.set()
    assert wait(qs, long_url)["status"] == "done"


@pytest.mark.slow
def test_townships_are_served_round_robin(fresh: Any) -> None:
    app = fresh(HUB_JOB_WORKERS="1", HUB_JOB_SMALL_WORKERS="0")
    gate = Gate(app, QINGSHAN)
    qs, cg = login(app, "qs_clerk"), login(app, "cg_clerk")
    first = start(qs, QS_FILE)
    assert gate.entered.wait(30)
    queued = [
        start(qs, SAMPLE / name)
        for name in ("青山镇_人口台账_2026.xlsx", "青山镇_低保花名册_2026年11月.xlsx")
    ]
    theirs = start(cg, CG_FILE)
    waiting = job_of(qs, queued[1])
    assert waiting["status"] == "queued" and waiting["waiting"] == 2
    assert "排队等候" in qs.get(queued[1]).text and "前面还有 2 个任务" in qs.get(queued[1]).text
    gate.open.set()
    for url in [first, *queued]:
        wait(qs, url)
    wait(cg, theirs)
    order = [name for _, name in submissions(app)]
    # 城关街道's one job ran right after 青山镇's first, before 青山镇's two queued ones
    assert order[:2] == [QS_FILE.name, CG_FILE.name], order
    assert len(order) == 4


def test_cancel_a_queued_and_a_running_job_leaves_the_store_as_before(fresh: Any) -> None:
    app = fresh(HUB_JOB_WORKERS="1", HUB_JOB_SMALL_WORKERS="0")
    gate = Gate(app, QINGSHAN)
    qs = login(app, "qs_clerk")
    running = start(qs, QS_FILE)
    assert gate.entered.wait(30)
    queued = start(qs, SAMPLE / "青山镇_人口台账_2026.xlsx")
    token = page_csrf(qs, running)
    assert qs.post(f"{queued}/cancel", data={"csrf_token": token}).status_code == 200
    assert job_of(qs, queued)["status"] == "cancelled"
    r = qs.post(f"{running}/cancel", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == running
    assert job_of(qs, running)["status_text"] == "正在取消"
    gate.open.set()
    done = wait(qs, running)
    assert done["status"] == "cancelled" and "数据库未作任何改动" in done["message"]
    assert submissions(app) == []
    page = qs.get(running).text
    assert "已取消" in page and "取消此任务" not in page
    # no CSRF, or another clerk: refused
    assert qs.post(f"{running}/cancel").status_code == 403
    cg = login(app, "cg_clerk")
    assert cg.post(f"{running}/cancel", data={"csrf_token": page_csrf(cg, "/clerk")}).status_code == 404


@pytest.mark.slow
def test_a_job_cancelled_after_its_file_was_stored_withdraws_it(fresh: Any) -> None:
    app = fresh()
    hub = app.state.hub_state.hub
    linking, release = threading.Event(), threading.Event()
    real_link = hub.link

    def slow_link() -> Any:
        linking.set()
        assert release.wait(60)
        return real_link()

    hub.link = slow_link
    qs = login(app, "qs_clerk")
    url = start(qs, QS_FILE)
    assert linking.wait(60)
    assert [n for _, n in submissions(app)] == [QS_FILE.name]  # stored, being linked
    qs.post(f"{url}/cancel", data={"csrf_token": page_csrf(qs, "/clerk")})
    release.set()
    job = wait(qs, url)
    assert job["status"] == "cancelled" and "已撤回" in job["message"], job
    assert submissions(app) == []
    (audit,) = hub.db.dicts("SELECT withdrawn_by, reason, file_name FROM hub_withdrawals")
    assert audit["withdrawn_by"] == "qs_clerk" and "已取消" in audit["reason"]
    assert hub.db.scalar("SELECT count(*) FROM hub_rows") == 0


def test_the_time_limit_stops_a_job(fresh: Any) -> None:
    app = fresh(HUB_JOB_TIME_LIMIT_S="0.5")
    gate = Gate(app, QINGSHAN)
    qs = login(app, "qs_clerk")
    url = start(qs, QS_FILE)
    assert gate.entered.wait(30)
    time.sleep(0.8)
    gate.open.set()
    job = wait(qs, url)
    assert job["status"] == "timeout" and "超过上限（0.5 秒）" in job["message"]
    assert "处理时间超过上限" in job["message"] and submissions(app) == []
    assert "超时已停止" in qs.get(url).text


def test_shutdown_stops_within_seconds_and_marks_queued_jobs(fresh: Any) -> None:
    app = fresh(HUB_JOB_WORKERS="1", HUB_JOB_SMALL_WORKERS="0")
    gate = Gate(app, QINGSHAN)
    qs, cg = login(app, "qs_clerk"), login(app, "cg_clerk")
    running = start(qs, QS_FILE)
    assert gate.entered.wait(30)
    queued = start(cg, CG_FILE)
    jobs = app.state.hub_state.jobs
    started = time.monotonic()
    stopper = threading.Thread(target=jobs.shutdown)
    stopper.start()
    time.sleep(0.3)
    gate.open.set()  # the reading step ends; the job stops at the boundary after it
    stopper.join(10)
    assert not stopper.is_alive() and time.monotonic() - started < 6
    assert job_of(cg, queued)["status"] == "interrupted"
    assert "请在服务恢复后重新上传" in job_of(cg, queued)["message"]
    assert job_of(qs, running)["status"] == "interrupted"
    assert submissions(app) == []
