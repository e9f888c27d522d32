"""The 撤回 button of a submission page (hub/serve/jobpages.py, Hub.withdraw): a clerk withdraws her
own township's submission with a reason (CSRF required), it leaves the store and the history, the
audit row keeps who, when and why; another township's clerk cannot; a steward can withdraw any."""

from __future__ import annotations

from typing import Any

import pytest

from tests.serve.conftest import QINGSHAN, login, page_csrf
from tests.serve.test_jobs_queue import wait


def _first(app: Any, township: str) -> tuple[int, str]:
    sid, name = app.state.hub_state.hub.db.rows(
        "SELECT submission_id, file_name FROM hub_submissions WHERE township_code = ? ORDER BY 1 LIMIT 1",
        [township],
    )[0]
    return int(sid), str(name)


def test_a_clerk_withdraws_her_submission_with_a_reason(loaded: Any) -> None:
    hub = loaded.state.hub_state.hub
    sid, name = _first(loaded, QINGSHAN)
    rows_before = hub.db.scalar("SELECT count(*) FROM hub_rows WHERE submission_id = ?", [sid])
    assert rows_before > 0
    qs = login(loaded, "qs_clerk")
    page = qs.get(f"/clerk/submissions/{sid}")
    assert page.status_code == 200 and 'id="withdraw-form"' in page.text and "撤回原因" in page.text
    token = page_csrf(qs, f"/clerk/submissions/{sid}")
    assert (
        qs.post(f"/clerk/submissions/{sid}/withdraw", data={"reason": "误传"}).status_code == 403
    )  # no CSRF
    empty = qs.post(f"/clerk/submissions/{sid}/withdraw", data={"csrf_token": token, "reason": "  "})
    assert empty.status_code == 400 and "请填写撤回原因" in empty.text
    r = qs.post(
        f"/clerk/submissions/{sid}/withdraw",
        data={"csrf_token": token, "reason": "误传了上月的台账"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/clerk/jobs/")
    job = wait(qs, r.headers["location"])
    assert job["status"] == "done" and f"已撤回提交号 {sid}" in job["message"], job
    assert "已撤回提交号" in qs.get(r.headers["location"]).text
    assert qs.get(f"/clerk/submissions/{sid}").status_code == 404
    assert name not in qs.get("/clerk/submissions").text
    assert hub.db.scalar("SELECT count(*) FROM hub_rows WHERE submission_id = ?", [sid]) == 0
    (audit,) = hub.db.dicts("SELECT withdrawn_by, reason, file_name FROM hub_withdrawals")
    assert audit == {"withdrawn_by": "qs_clerk", "reason": "误传了上月的台账", "file_name": name}


@pytest.mark.slow
def test_another_township_cannot_withdraw_and_a_steward_can(loaded: Any) -> None:
    hub = loaded.state.hub_state.hub
    sid, _ = _first(loaded, QINGSHAN)
    cg = login(loaded, "cg_clerk")
    token = page_csrf(cg, "/clerk")
    refused = cg.post(f"/clerk/submissions/{sid}/withdraw", data={"csrf_token": token, "reason": "x"})
    assert refused.status_code == 403 and "不属于您的乡镇" in refused.text
    assert hub.db.scalar("SELECT count(*) FROM hub_withdrawals") == 0
    mz = login(loaded, "mz_user")
    token = page_csrf(mz, "/dept")
    assert (
        mz.post(f"/clerk/submissions/{sid}/withdraw", data={"csrf_token": token, "reason": "x"}).status_code
        == 403
    )
    admin = login(loaded, "steward")
    token = page_csrf(admin, "/steward")
    r = admin.post(
        f"/clerk/submissions/{sid}/withdraw",
        data={"csrf_token": token, "reason": "重复报送"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
    job = wait(admin, r.headers["location"])
    assert job["status"] == "done", job
    assert hub.db.dicts("SELECT withdrawn_by FROM hub_withdrawals") == [{"withdrawn_by": "steward"}]
