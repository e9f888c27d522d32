"""``GET /api/v1/changes/{report}``: the changes feed over the department API (docs/exchange.md).
Token auth, the department's own reports only, a stated purpose, and every pull in the access log,
as for ``GET /api/v1/reports/{id}``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from hub.errors import HubError
from hub.serve.accounts import User
from hub.serve.api import ERRORS, pull_target, token_user
from hub.serve.reports import log_access
from hub.serve.web import WebError

router = APIRouter(prefix="/api/v1", tags=["changes"])


@router.get(
    "/changes/{report_id}",
    responses={
        **ERRORS,
        200: {
            "description": "自游标以来的变更：added（新增记录）、changed（新行与逐字段旧值→新值）、"
            "removed（移出，含原因：死亡、迁出、撤回、合并、不再符合条件），cursor 为下次使用的游标",
            "content": {"application/json": {}},
        },
    },
    summary="数据订阅：拉取一个乡镇某报表自上次以来的变更",
)
def pull_changes(
    request: Request,
    report_id: str,
    township: str | None = Query(None, description="9位乡镇代码或乡镇名称；全县报表不填"),
    since: str | None = Query(None, description="上次返回的游标（cursor）；不填则返回全部记录（均为新增）"),
    date: str | None = Query(None, description="报表日期 YYYY-MM-DD，默认今天"),
    purpose: str | None = Query(None, description="用途（必填，至少4个字），记入访问日志"),
    user: User = Depends(token_user),
) -> Response:
    info, why, ref, hub, town = pull_target(request, user, report_id, township, date, purpose)
    try:
        got = hub.changes(info.id, town, since, ref)
    except HubError as exc:
        if exc.code == "cursor-unknown":
            raise WebError(400, exc.message, code=exc.code) from exc
        raise
    log_access(
        hub,
        user,
        channel="api",
        report=info.id,
        township=town,
        ref=ref,
        purpose=why,
        fmt="changes",
        records=got.items,
        sha256=got.sha256,
    )
    return Response(
        got.body,
        media_type="application/json",
        headers={"X-Hub-Cursor": got.cursor, "X-Hub-SHA256": got.sha256},
    )
