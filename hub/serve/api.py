"""The machine API for departments: ``GET /api/v1/reports`` and ``GET /api/v1/reports/{id}``.
Authenticated by per-department tokens; every pull states its purpose and is logged."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from hub.serve import accounts
from hub.serve.accounts import User
from hub.serve.clerk import parse_date
from hub.serve.dept import check_purpose, deliver_file
from hub.serve.reports import catalogue, log_access, produce_json, report_for
from hub.serve.web import WebError, state

router = APIRouter(prefix="/api/v1", tags=["reports"])


class ApiError(BaseModel):
    error: str
    message: str
    hint: str | None = None


class ReportItem(BaseModel):
    id: str
    department: str
    title: str
    period: str
    scope: str
    format: str
    json_rows: bool


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ApiError, "description": "参数错误，或未说明用途（error=purpose-required）"},
    401: {"model": ApiError, "description": "缺少或无效的令牌"},
    403: {"model": ApiError, "description": "该报表不属于本部门"},
    404: {"model": ApiError, "description": "报表不存在"},
}


def token_user(request: Request) -> User:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    user = accounts.token_user(state(request).hub.db, token)
    if user is None:
        raise WebError(
            401,
            "缺少或无效的接口令牌。请在请求头加 Authorization: Bearer <令牌>（令牌在“接口令牌”页面创建）。",
            code="unauthenticated",
        )
    return user


def pull_target(
    request: Request,
    user: User,
    report_id: str,
    township: str | None,
    date: str | None,
    purpose: str | None,
) -> tuple[Any, str, Any, Any, str | None]:
    """What a department's pull asks for, checked as every pull route checks it: its own report, a
    stated purpose, the report date, and the township (required unless the report is county-wide).
    Returns ``(report, purpose, date, hub, township code)``."""
    info = report_for(user, report_id)
    why = check_purpose(purpose)
    ref = parse_date(date)
    hub = state(request).hub
    town = hub.resolve_township(township) if township and info.scope != "county" else None
    if info.scope != "county" and not town:
        raise WebError(400, f"报表 {info.id} 按乡镇生成，请用 township 指定乡镇。", code="township-required")
    return info, why, ref, hub, town


@router.get("/reports", response_model=list[ReportItem], responses=ERRORS, summary="本部门可获取的报表")
def list_reports(user: User = Depends(token_user)) -> list[ReportItem]:
    return [
        ReportItem(
            id=r.id,
            department=r.department,
            title=r.title,
            period=r.period,
            scope=r.scope,
            format=r.format,
            json_rows=r.json_rows,
        )
        for r in catalogue()
        if r.department == user.department
    ]


@router.get(
    "/reports/{report_id}",
    responses={
        **ERRORS,
        200: {
            "description": "报表文件（xlsx 或 GBK CSV，与命令行 hub export 写出的相同），或 JSON 行",
            "content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
                "text/csv": {},
                "application/json": {},
            },
        },
    },
    summary="拉取一个乡镇、一个报告期的报表",
)
def pull_report(
    request: Request,
    report_id: str,
    township: str | None = Query(None, description="9位乡镇代码或乡镇名称；全县报表（如 GA-SYRK）可不填"),
    date: str | None = Query(None, description="报表日期 YYYY-MM-DD，决定报告期，默认今天"),
    purpose: str | None = Query(None, description="用途（必填，至少4个字），记入访问日志"),
    format: Literal["file", "json"] = Query("file", description="file：报表文件；json：数据行（仅单表报表）"),
    user: User = Depends(token_user),
) -> Response:
    info, why, ref, hub, town = pull_target(request, user, report_id, township, date, purpose)
    if format == "json":
        records, body = produce_json(hub, info, town, ref)
        digest = hashlib.sha256(body).hexdigest()
        log_access(
            hub,
            user,
            channel="api",
            report=info.id,
            township=town,
            ref=ref,
            purpose=why,
            fmt="json",
            records=records,
            sha256=digest,
        )
        return Response(
            body,
            media_type="application/json",
            headers={"X-Hub-Records": str(records), "X-Hub-SHA256": digest},
        )
    return deliver_file(hub, user, info, town, ref, why, channel="api")
