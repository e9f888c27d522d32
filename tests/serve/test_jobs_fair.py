"""Issue 11: one township's job never holds the store for long. A job's annotated copies are written
outside the store's unit of work, so another township's upload is stored, linked and merged while a
long copy is being written; and the store goes to the lightest waiting unit first, so a small
upload's units go between a large one's (hub/store/units.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from hub.store.units import UnitLock, weighing
from tests.serve.conftest import SAMPLE, login
from tests.serve.test_jobs_queue import CG_FILE, fresh, job_of, start, submissions, wait

__all__ = ["fresh"]  # the fixture, shared with test_jobs_queue

QS_FILE = SAMPLE / "青山镇_人口台账_2026.xlsx"


def held_copies(monkeypatch: pytest.MonkeyPatch, name: str = "") -> tuple[threading.Event, threading.Event]:
    """Annotated copies of files whose name ends with ``name`` wait to be written until ``release``
    is set (``writing`` is set when one gets there); others are written at once."""
    from hub.validate import annotate

    writing, release = threading.Event(), threading.Event()
    real = annotate.annotate_workbook

    def slow_copy(source: Path, *args: Any) -> Path:
        if source.name.endswith(name):
            writing.set()
            assert release.wait(60)
        return real(source, *args)

    monkeypatch.setattr(annotate, "annotate_workbook", slow_copy)
    return writing, release


def test_a_small_upload_finishes_while_a_long_job_writes_its_annotated_copy(
    fresh: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = fresh()
    hub = app.state.hub_state.hub
    writing, release = held_copies(monkeypatch, QS_FILE.name)  # 青山镇's copy takes "long"
    qs, cg = login(app, "qs_clerk"), login(app, "cg_clerk")
    long_url = start(qs, QS_FILE)
    assert writing.wait(60), "青山镇's upload never reached its annotated copy"
    stored = hub.db.rows(
        "SELECT s.file_name, st.state FROM hub_submissions s JOIN hub_submission_state st USING (submission_id)"
    )
    assert stored == [(QS_FILE.name, "linked")]  # stored and linked; its copy is owed
    clock = time.monotonic()
    other = wait(cg, start(cg, CG_FILE), timeout=60)
    took = time.monotonic() - clock
    assert other["status"] == "done" and other["reports"][0]["status"] == "ingested", other
    assert not job_of(qs, long_url)["final"]  # still writing while 城关街道's upload went through
    # 城关街道's upload was stored, linked, merged and completed; 青山镇's copy not taken over by it
    states = dict(
        hub.db.rows(
            "SELECT s.file_name, st.state FROM hub_submissions s JOIN hub_submission_state st USING (submission_id)"
        )
    )
    assert states == {QS_FILE.name: "linked", CG_FILE.name: "complete"}, states
    persons = hub.db.scalar(
        "SELECT count(*) FROM hub_link_clusters WHERE submission_id = (SELECT submission_id FROM hub_submissions WHERE file_name = ?)",
        [CG_FILE.name],
    )
    assert persons, "城关街道's rows were not linked"
    release.set()
    done = wait(qs, long_url)
    assert done["status"] == "done", done
    assert hub.db.rows("SELECT DISTINCT state FROM hub_submission_state") == [("complete",)]
    copies = sorted(p.name for p in (hub.home / "annotated").iterdir())
    assert any(n.startswith(QS_FILE.stem) and n.endswith("_批注.xlsx") for n in copies), copies
    assert not any(".partial" in n for n in copies), copies
    assert [n for _, n in submissions(app)] == [QS_FILE.name, CG_FILE.name]
    assert took < 60


def test_the_store_goes_to_the_lightest_waiting_unit_first() -> None:
    """A 200,000-row job's next unit and a 500-row job's unit both wait while a unit runs: the small
    one goes first, whatever the order they came in; a unit past its patience goes first in turn."""
    for patience, expected in ((60.0, ["small", "large"]), (0.0, ["large", "small"])):
        lock, order = UnitLock(patience=patience), []
        holding = threading.Event()

        def unit(name: str, cells: int, lock: UnitLock = lock, order: list[str] = order) -> None:
            with weighing(cells), lock:
                order.append(name)

        with lock:
            holding.set()
            large = threading.Thread(target=unit, args=("large", 2_200_000))
            large.start()
            while lock.waiting() < 1:
                time.sleep(0.01)
            small = threading.Thread(target=unit, args=("small", 5_500))
            small.start()
            while lock.waiting() < 2:
                time.sleep(0.01)
            if patience == 0.0:
                time.sleep(0.05)  # both past their patience: served in arrival order
        large.join(10)
        small.join(10)
        assert order == expected, (patience, order)


def test_a_unit_lock_is_reentrant_and_owned() -> None:
    lock = UnitLock()
    with lock, lock:  # a withdrawal's unit opens the link's and the merge's
        assert lock.waiting() == 0
    errors: list[BaseException] = []

    def other() -> None:
        try:
            lock.release()
        except RuntimeError as exc:
            errors.append(exc)

    with lock:
        t = threading.Thread(target=other)
        t.start()
        t.join(5)
    assert errors and "another thread" in str(errors[0])
