"""Pages that act on jobs: cancel an upload job, withdraw a submission (撤回), and the job page of
a steward's withdrawal. A clerk acts on her own township's jobs and submissions; a steward may
withdraw any submission. Every action is a POST with the session's CSRF token."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from hub.serve.accounts import User
from hub.serve.jobs import Job
from hub.serve.web import WebError, check_csrf, current_user, forbidden, not_found, render, state, steward

router = APIRouter(include_in_schema=False)
MAX_REASON = 500


def _answer(request: Request, job: Job, url: str) -> Response:
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(job.to_dict() | {"url": url})
    return RedirectResponse(url, status_code=303)


@router.post("/clerk/jobs/{job_id}/cancel", dependencies=[Depends(check_csrf)])
def cancel_job(request: Request, job_id: str) -> Response:
    """Cancel the clerk's own queued or running upload job (a running one stops at its next step)."""
    user = current_user(request)
    jobs = state(request).jobs
    job = jobs.get(job_id)
    if job is None or user.role != "clerk" or job.township != user.township_code:
        raise not_found("找不到该上传任务。")
    if job.username != user.username:
        raise forbidden("只能取消自己提交的上传任务。")
    jobs.cancel(job_id)
    return _answer(request, job, f"/clerk/jobs/{job_id}")


@router.post("/clerk/submissions/{sid}/withdraw", dependencies=[Depends(check_csrf)])
def withdraw(request: Request, sid: int, reason: str = Form("")) -> Response:
    """Withdraw a submission (queued as a job of its township): a clerk her own township's, a
    steward any. The reason is required and kept for good with who and when."""
    user = current_user(request)
    st = state(request)
    rows = st.hub.db.dicts(
        "SELECT submission_id, township_code, file_name FROM hub_submissions WHERE submission_id = ?", [sid]
    )
    if not rows:
        raise not_found("找不到该报送记录（可能已撤回）。")
    sub = rows[0]
    if user.role == "clerk":
        if sub["township_code"] != user.township_code:
            raise forbidden("这份报送不属于您的乡镇，不能撤回。")
    elif user.role != "steward":
        raise forbidden("只有乡镇填报员和数据管理员可以撤回报送。")
    reason = reason.strip()
    if not reason:
        raise WebError(
            400,
            "请填写撤回原因：撤回记录永久保存，供日后核查。",
            code="withdraw-reason",
            hint="返回上一页填写原因后再提交。",
        )
    if len(reason) > MAX_REASON:
        raise WebError(400, f"撤回原因太长（最多 {MAX_REASON} 字）。", code="withdraw-reason")
    job = st.jobs.submit_withdraw(
        user.username, str(sub["township_code"] or ""), sid, reason, str(sub["file_name"])
    )
    url = f"/clerk/jobs/{job.id}" if user.role == "clerk" else f"/jobs/{job.id}"
    return _answer(request, job, url)


@router.get("/jobs/{job_id}")
def steward_job(request: Request, job_id: str, user: User = Depends(steward)) -> Response:
    """The job page for a steward (her withdrawals)."""
    job = state(request).jobs.get(job_id)
    if job is None or job.username != user.username:
        raise not_found("找不到该任务（任务记录只保留在本次服务运行期间）。")
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(job.to_dict())
    return render(request, "clerk_job.html", job=job.to_dict(), fields=[], chosen={})
