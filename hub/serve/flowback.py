"""The township's 回流与核实 page (residents its resubmissions left out, department feedback, what
other townships and linkage know of its residents) and the departments' feedback API
(``POST /api/v1/feedback``, ``GET /api/v1/feedback``). The logic is in :mod:`hub.exchange`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hub.serve.accounts import User
from hub.serve.api import ERRORS, token_user
from hub.serve.web import WebError, check_csrf, clerk, forbidden, render, state, township_name

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["feedback"])


def _town(user: User) -> str:
    if not user.township_code:
        raise forbidden("此账户没有所属乡镇。")
    return user.township_code


@router.get("/clerk/flowback")
def flowback_page(request: Request, user: User = Depends(clerk)) -> Response:
    from hub.exchange.departures import ANSWERS
    from hub.exchange.feedback import ANSWERS as FEEDBACK_ANSWERS
    from hub.exchange.feedback import flowback

    town = _town(user)
    data = flowback(state(request).hub, town)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(_jsonable(data))
    return render(
        request,
        "clerk_flowback.html",
        town=township_name(request, town),
        data=data,
        answers=ANSWERS,
        feedback_answers=FEEDBACK_ANSWERS,
        done=request.query_params.get("done", ""),
    )


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


async def _form(request: Request) -> tuple[str, str]:
    form = await request.form()
    answer, note = form.get("answer"), form.get("note")
    return (answer if isinstance(answer, str) else ""), (note if isinstance(note, str) else "")


@router.post("/clerk/departures/{departure_id}/answer", dependencies=[Depends(check_csrf)])
async def answer_departure(request: Request, departure_id: int, user: User = Depends(clerk)) -> Response:
    """迁出 / 死亡 / 漏报 for one resident of the clerk's own township; merged at once."""
    from hub.exchange.departures import answer

    town = _town(user)
    given, note = await _form(request)
    await run_in_threadpool(
        answer, state(request).hub, departure_id, given, by=user.username, note=note, township=town
    )
    return RedirectResponse(f"/clerk/flowback?done=d{departure_id}#departures", status_code=303)


@router.post("/clerk/feedback/{feedback_id}/answer", dependencies=[Depends(check_csrf)])
async def answer_feedback(request: Request, feedback_id: int, user: User = Depends(clerk)) -> Response:
    from hub.exchange.feedback import answer_feedback as answer

    town = _town(user)
    given, note = await _form(request)
    await run_in_threadpool(
        answer, state(request).hub.db, feedback_id, given, by=user.username, note=note, township=town
    )
    return RedirectResponse(f"/clerk/flowback?done=f{feedback_id}#feedback", status_code=303)


class FeedbackIn(BaseModel):
    record: str = Field(description="记录编码：人员 P…、家庭 H…、市场主体 B…（报表中的编码）")
    field: str | None = Field(None, description="字段名（如 phone）或中文名称（如 联系电话）；不填为整条记录")
    message: str = Field(description="哪里有误（必填，至多 1000 字）")


class AnswerOut(BaseModel):
    answer: str
    note: str | None = None
    by: str
    at: str


class FeedbackOut(BaseModel):
    feedback_id: int
    record_code: str
    entity: str
    field: str | None
    message: str
    department: str
    posted_by: str
    posted_at: str
    township_code: str | None
    status: str
    answers: list[AnswerOut]


def _out(item: dict[str, Any]) -> FeedbackOut:
    return FeedbackOut(
        **{
            k: item[k]
            for k in (
                "feedback_id",
                "record_code",
                "entity",
                "field",
                "message",
                "department",
                "posted_by",
                "township_code",
                "status",
            )
        },  # fmt: skip
        posted_at=f"{item['posted_at']:%Y-%m-%d %H:%M:%S}",
        answers=[AnswerOut(**a) for a in item["answers"]],
    )


@api.post(
    "/feedback",
    status_code=201,
    response_model=FeedbackOut,
    responses=ERRORS,
    summary="对一条记录的反馈（哪里有误），由记录所在乡镇答复",
)
def post_feedback(request: Request, body: FeedbackIn, user: User = Depends(token_user)) -> FeedbackOut:
    from hub.exchange.feedback import post_feedback as post

    if user.role != "department" or not user.department:
        raise WebError(403, "只有部门令牌可以提交反馈。", code="forbidden")
    hub = state(request).hub
    item = post(
        hub.db, hub.schema, record=body.record, field=body.field, message=body.message,
        department=user.department, by=user.username,
    )  # fmt: skip
    return _out(item)


@api.get(
    "/feedback", response_model=list[FeedbackOut], responses=ERRORS, summary="本部门提交的反馈及乡镇的答复"
)
def list_feedback(request: Request, user: User = Depends(token_user)) -> list[FeedbackOut]:
    from hub.exchange.feedback import list_feedback as items

    if user.role != "department" or not user.department:
        raise WebError(403, "只有部门令牌可以查看反馈。", code="forbidden")
    return [_out(i) for i in items(state(request).hub.db, department=user.department, all_=True)]
