"""Issue 11: daily uploads that wait for the store together are done in one unit (group commit,
hub.store.units.Together): each file validated and stored in turn, then one entity resolution and
one merge for all of them, and every clerk still gets her own job, report and copy. A job cancelled
while it waits with others stops alone. A job's files are validated before its unit, on a
connection of their own, so the unit only stores and links them."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hub.facade import Hub
from hub.store.units import Together, UnitLock, weighing
from tests.serve.conftest import CHENGGUAN, QINGSHAN, SAMPLE, login, page_csrf
from tests.serve.test_jobs_queue import CG_FILE, QS_FILE, fresh, start, submissions, wait

__all__ = ["fresh"]  # the fixture, shared with test_jobs_queue


def _hold_store(hub: Hub, waiting: int) -> tuple[threading.Event, threading.Thread]:
    """Another unit holds the store until ``release`` is set; returns once ``waiting`` units wait."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with hub._unit("测试占用"):
            holding.set()
            assert release.wait(120)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(30)
    return release, holder


def _until_waiting(hub: Hub, n: int) -> None:
    deadline = time.monotonic() + 60
    while hub._unit_lock.waiting() < n:
        assert time.monotonic() < deadline, f"{hub._unit_lock.waiting()} units wait, not {n}"
        time.sleep(0.05)


def _counts(hub: Hub) -> dict[str, tuple[int, int, int]]:
    return {
        str(name): (int(rows), int(accepted), int(rejected))
        for name, rows, accepted, rejected in hub.db.rows(
            "SELECT file_name, rows, accepted, rejected FROM hub_submissions"
        )
    }


def _persons(hub: Hub) -> list[tuple[Any, ...]]:
    return sorted(hub.db.rows("SELECT township_code, id_number, name FROM hub_person"), key=str)


def test_uploads_waiting_together_are_linked_and_merged_once(
    fresh: Any,
    bare_home: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = fresh()
    hub = app.state.hub_state.hub
    import hub.validate as validate

    real_validate, in_unit = validate.validate_sheet, []

    def watched(*args: Any) -> Any:
        in_unit.append(hub._unit_lock.held())
        return real_validate(*args)

    monkeypatch.setattr(validate, "validate_sheet", watched)
    links = []
    real_link = hub.link

    def counted_link(full: bool = False) -> Any:
        links.append(full)
        return real_link(full)

    hub.link = counted_link
    versions = int(hub.db.scalar("SELECT count(*) FROM hub_data_versions") or 0)
    qs, cg = login(app, "qs_clerk"), login(app, "cg_clerk")
    caplog.set_level(logging.INFO, logger="hub.units")
    release, holder = _hold_store(hub, 0)
    urls = [(qs, start(qs, QS_FILE)), (cg, start(cg, CG_FILE))]
    _until_waiting(hub, 2)  # both read, both waiting for the store
    release.set()
    holder.join(30)
    jobs = [wait(c, url) for c, url in urls]
    for job, name in zip(jobs, (QS_FILE.name, CG_FILE.name), strict=True):
        assert job["status"] == "done", job
        (report,) = job["reports"]
        assert report["status"] == "ingested" and report["file"] == name, report
    assert links == [False], links  # one entity resolution for both uploads
    assert in_unit and not any(in_unit), in_unit  # every sheet validated before the unit, none inside
    # one merge, so one new data version for both
    assert int(hub.db.scalar("SELECT count(*) FROM hub_data_versions") or 0) == versions + 1
    units = [r.getMessage() for r in caplog.records if r.name == "hub.units"]
    assert any(m.startswith("unit 导入") and "2 request(s)" in m for m in units), units
    assert any("done in the unit of job" in m for m in units), units
    assert hub.db.rows("SELECT DISTINCT state FROM hub_submission_state") == [("complete",)]

    # the same two files ingested and merged one after the other give the same store
    shutil.copytree(bare_home, tmp_path / "ref")
    ref = Hub(tmp_path / "ref")
    try:
        for path, town, user in ((QS_FILE, QINGSHAN, "qs_clerk"), (CG_FILE, CHENGGUAN, "cg_clerk")):
            (alone,) = ref.ingest([path], township=town, submitted_by=user)
            assert alone.status == "ingested"
            ref.merge()
        assert _counts(hub) == _counts(ref)
        assert _persons(hub) == _persons(ref) and _persons(hub)
        shown = {
            j["reports"][0]["file"]: (j["reports"][0]["accepted"], j["reports"][0]["rejected"]) for j in jobs
        }
        assert shown == {n: c[1:] for n, c in _counts(ref).items()}
    finally:
        ref.close()


def test_a_job_cancelled_while_waiting_with_others_stops_alone(fresh: Any) -> None:
    app = fresh()
    hub = app.state.hub_state.hub
    qs, cg = login(app, "qs_clerk"), login(app, "cg_clerk")
    release, holder = _hold_store(hub, 0)
    qs_url, cg_url = start(qs, QS_FILE), start(cg, CG_FILE)
    _until_waiting(hub, 2)
    r = cg.post(f"{cg_url}/cancel", data={"csrf_token": page_csrf(cg, "/clerk")}, follow_redirects=False)
    assert r.status_code == 303
    release.set()
    holder.join(30)
    mine, theirs = wait(qs, qs_url), wait(cg, cg_url)
    assert mine["status"] == "done" and mine["reports"][0]["status"] == "ingested", mine
    assert theirs["status"] == "cancelled", theirs
    assert "数据库未作任何改动" in theirs["message"] or "已撤回" in theirs["message"], theirs
    assert [n for _, n in submissions(app)] == [QS_FILE.name]
    assert hub.db.scalar("SELECT count(*) FROM hub_person WHERE township_code = ?", [CHENGGUAN]) == 0
    assert hub.db.scalar("SELECT count(*) FROM hub_person WHERE township_code = ?", [QINGSHAN]) > 0


def _arrive_while_held(lock: UnitLock, ask: Any, *requests: str) -> None:
    """``requests`` asked from threads of their own while this thread holds ``lock``; returns when
    all of them are answered."""
    with lock:
        threads = [threading.Thread(target=ask, args=(r, 10)) for r in requests]
        for t in threads:
            t.start()
        while lock.waiting() < len(requests):
            time.sleep(0.01)
    for t in threads:
        t.join(10)


def test_together_gives_each_request_its_own_result_or_error() -> None:
    lock, batches = UnitLock(), []

    def run(requests: Any) -> list[Any]:
        batches.append(list(requests))
        if "boom" in requests:
            raise RuntimeError("the unit failed")
        return [ValueError(r) if r.startswith("bad") else r.upper() for r in requests]

    together: Together[str, str] = Together(lock, "测试", run, lambda a, b: not b.startswith("alone"))
    out: dict[str, Any] = {}

    def ask(request: str, cells: int) -> None:
        try:
            with weighing(cells):
                out[request] = together.submit(request)
        except Exception as exc:
            out[request] = exc

    _arrive_while_held(lock, ask, "a", "bad", "alone")  # another unit holds the store meanwhile
    assert out["a"] == "A" and out["alone"] == "ALONE"
    assert isinstance(out["bad"], ValueError)  # its error, in its thread only
    assert sorted(map(sorted, batches)) == [["a", "bad"], ["alone"]], batches
    # an error of the whole unit reaches every request of the batch
    _arrive_while_held(lock, ask, "boom", "b")
    assert isinstance(out["boom"], RuntimeError) and isinstance(out["b"], RuntimeError)
    # inside a unit the thread holds, a request is done at once, alone
    with lock:
        assert together.submit("inner") == "INNER"
    assert batches[-1] == ["inner"]


def test_a_file_validated_before_midnight_and_stored_after_is_validated_again(
    bare_home: Path, tmp_path: Path
) -> None:
    shutil.copytree(bare_home, tmp_path / "home")
    hub = Hub(tmp_path / "home")
    try:
        staged = hub.stage([CG_FILE], township=CHENGGUAN)
        early = staged[CG_FILE]
        assert not isinstance(early, Exception) and early.validated_on is not None
        assert len(early.validated or []) == len(early.sheets)
        early.validated_on = early.validated_on.replace(year=2000)  # validated "yesterday"
        early.validated = []  # would fail if used
        (report,) = hub.ingest([CG_FILE], township=CHENGGUAN, staged=staged)
        assert report.status == "ingested" and report.rows > 0
        assert report.accepted + report.rejected == report.rows
    finally:
        hub.close()


def test_a_leader_waits_a_moment_for_the_uploads_still_being_read() -> None:
    lock, batches = UnitLock(), []

    def run(requests: Any) -> list[str]:
        batches.append(list(requests))
        return [r.upper() for r in requests]

    together: Together[str, str] = Together(lock, "测试", run, linger=5.0)
    out: dict[str, str] = {}

    def ask(request: str) -> None:
        out[request] = together.submit(request)

    clock = time.monotonic()
    assert together.submit("alone") == "ALONE"  # nothing on its way: no waiting
    assert time.monotonic() - clock < 2.0
    reading, read = threading.Event(), threading.Event()

    def upload(request: str) -> None:
        with together.coming():  # on its way from the start of its read to its submit
            reading.set()
            assert read.wait(10)
            out[request] = together.submit(request)

    second = threading.Thread(target=upload, args=("second",))
    second.start()
    assert reading.wait(10)
    first = threading.Thread(target=ask, args=("first",))
    first.start()
    time.sleep(0.3)
    assert batches == [["alone"]]  # the first holds the store and waits for the second
    read.set()
    first.join(10)
    second.join(10)
    assert batches == [["alone"], ["first", "second"]], batches
    assert out == {"first": "FIRST", "second": "SECOND"}


def test_small_uploads_have_workers_of_their_own(fresh: Any) -> None:
    """With the one general worker held by a large file being read, another township's small
    upload is done by the small jobs' lane; a large file of that township waits for a general one."""
    from tests.serve.test_jobs_queue import Gate, job_of

    app = fresh(HUB_JOB_WORKERS="1", HUB_JOB_SMALL_WORKERS="1", HUB_SMALL_UPLOAD_MB="0.02")
    gate = Gate(app, QINGSHAN)
    qs, cg = login(app, "qs_clerk"), login(app, "cg_clerk")
    large = start(qs, SAMPLE / "青山镇_人口台账_2026.xlsx")  # 35 KB: a large job here
    assert gate.entered.wait(30)
    small = wait(cg, start(cg, CG_FILE), timeout=60)  # 7.5 KB
    assert small["status"] == "done" and small["reports"][0]["status"] == "ingested", small
    assert not job_of(qs, large)["final"]
    other = start(cg, SAMPLE / "城关街道_人口台账_2026.xlsx")  # 28 KB: not for the small lane
    time.sleep(1.0)
    assert job_of(cg, other)["status"] == "queued"
    gate.open.set()
    assert wait(qs, large)["status"] == "done"
    assert wait(cg, other)["status"] == "done"
