"""Pages of a county department: its reports by township and period, downloads (POST with the
session's CSRF token and a stated purpose, logged), and its API tokens."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from hub.serve import accounts
from hub.serve.accounts import User
from hub.serve.clerk import parse_date
from hub.serve.reports import PERIODS, access_log, catalogue, log_access, produce, report_for
from hub.serve.web import WebError, check_csrf, department, render, state, townships

router = APIRouter(include_in_schema=False)
MIN_PURPOSE = 4


def check_purpose(purpose: str | None) -> str:
    text = (purpose or "").strip()
    if len(text) < MIN_PURPOSE:
        raise WebError(
            400,
            f"请说明获取数据的用途（至少 {MIN_PURPOSE} 个字），例如“2026年11月低保资金发放核对”。"
            "未说明用途的数据请求一律拒绝。",
            code="purpose-required",
        )
    return text[:200]


def download_response(
    content: bytes, filename: str, media_type: str, records: int, sha256: str, cursor: str | None = None
) -> Response:
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
        "X-Hub-Records": str(records),
        "X-Hub-SHA256": sha256,
    }
    if cursor:
        headers["X-Hub-Cursor"] = cursor  # GET /api/v1/changes/{report}?since= continues from this file
    return Response(content, media_type=media_type, headers=headers)


def deliver_file(
    hub: Any, user: User, info: Any, town: str | None, ref: Any, purpose: str, *, channel: str
) -> Response:
    """Produce the report file the CLI writes, log the pull (who, what, why, hash), send it."""
    out = produce(hub, info, town, ref)
    log_access(
        hub,
        user,
        channel=channel,
        report=info.id,
        township=town,
        ref=ref,
        purpose=purpose,
        fmt=out.filename.rsplit(".", 1)[-1].lower(),
        records=out.records,
        sha256=out.sha256,
    )
    return download_response(out.content, out.filename, out.media_type, out.records, out.sha256, out.cursor)


@router.get("/dept")
def dept_home(request: Request, date: str = "", user: User = Depends(department)) -> Response:
    ref = parse_date(date)
    mine = [r for r in catalogue() if r.department == user.department]
    towns = townships(request)
    pulled = access_log(state(request).hub, department=user.department, limit=20)
    return render(
        request, "dept_home.html", reports=mine, towns=towns, ref=ref, periods=PERIODS, pulled=pulled
    )


@router.get("/dept/download")
def download_link(request: Request, user: User = Depends(department)) -> Response:
    """A download is a POST from the department's own page (it records a purpose). A link — which
    any other site could plant in a page the department user opens — writes nothing."""
    raise WebError(
        405,
        "报表下载须在“报表”页填写用途后点“下载”提交；为防止他人借链接以您的名义获取数据，不接受直接打开的下载链接。",
        code="post-required",
    )


@router.post("/dept/download", dependencies=[Depends(check_csrf)])
def download(
    request: Request,
    report: str = Form(""),
    township: str = Form(""),
    date: str = Form(""),
    purpose: str = Form(""),
    user: User = Depends(department),
) -> Response:
    info = report_for(user, report)
    why = check_purpose(purpose)
    ref = parse_date(date)
    hub = state(request).hub
    town = hub.resolve_township(township) if township and info.scope != "county" else None
    return deliver_file(hub, user, info, town, ref, why, channel="web")


@router.get("/dept/tokens")
def tokens(request: Request, user: User = Depends(department)) -> Response:
    items = accounts.list_tokens(state(request).hub.db, user)
    return render(request, "dept_tokens.html", tokens=items, new_token=None)


@router.post("/dept/tokens", dependencies=[Depends(check_csrf)])
def new_token(request: Request, label: str = Form(""), user: User = Depends(department)) -> Response:
    db = state(request).hub.db
    token = accounts.create_token(db, user, label)
    return render(request, "dept_tokens.html", tokens=accounts.list_tokens(db, user), new_token=token)


@router.post("/dept/tokens/revoke", dependencies=[Depends(check_csrf)])
def revoke(request: Request, hint: str = Form(...), user: User = Depends(department)) -> Response:
    accounts.revoke_token(state(request).hub.db, user, hint)
    return RedirectResponse("/dept/tokens", status_code=303)
