"""Issue 11: a submission withdrawn while its annotated copy is being written (the copy is written
outside the store's unit, so a steward's withdrawal can come meanwhile) leaves no copy behind."""

from __future__ import annotations

from typing import Any

import pytest

from tests.serve.conftest import SAMPLE, login
from tests.serve.test_jobs_fair import held_copies
from tests.serve.test_jobs_queue import fresh, start, wait

__all__ = ["fresh"]  # the fixture, shared with test_jobs_queue
FLAGGED = SAMPLE / "青山镇_残疾人台账_2026.xlsx"  # has findings: an annotated copy is written


def test_a_submission_withdrawn_while_its_copy_is_written_leaves_no_copy(
    fresh: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = fresh()
    hub = app.state.hub_state.hub
    writing, release = held_copies(monkeypatch)
    qs = login(app, "qs_clerk")
    url = start(qs, FLAGGED)
    assert writing.wait(60), "the upload never reached its annotated copy"
    sid = int(hub.db.scalar("SELECT submission_id FROM hub_submissions WHERE file_name = ?", [FLAGGED.name]))
    out = hub.withdraw(sid, by="steward", reason="报错了乡镇")  # while the copy is being written
    assert out["submission_id"] == sid
    release.set()
    job = wait(qs, url, timeout=60)
    assert job["status"] == "done", job
    assert sorted((hub.home / "annotated").iterdir()) == []  # neither the copy nor its temporary file
    assert hub.db.rows("SELECT count(*) FROM hub_submission_state") == [(0,)]
    assert [r[0] for r in hub.db.rows("SELECT submission_id FROM hub_withdrawals")] == [sid]
