"""Report admission on the web (docs/admission.md): a department submits a draft and reads its
review; the steward reviews, decides with a reason, and reads the county's burden ledger. The pages
only call :mod:`hub.admission` through the facade."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from hub import admission
from hub.admission.draft import PERIODS
from hub.errors import HubError
from hub.serve.accounts import User
from hub.serve.web import WebError, check_csrf, department, render, state, steward

router = APIRouter(include_in_schema=False)
MAX_DRAFT_BYTES = 5 * 1024 * 1024
SUFFIXES = (".xlsx", ".xls", ".xlsm", ".ods", ".yaml", ".yml", ".csv")


def _review(request: Request, draft_id: int) -> dict[str, Any]:
    try:
        return dict(state(request).hub.admission_review(draft_id))
    except HubError as exc:
        if exc.code == "draft-missing":
            raise WebError(404, exc.message, code="draft-missing") from exc
        raise


@router.get("/dept/admission")
def dept_admission(request: Request, user: User = Depends(department)) -> Response:
    mine = admission.drafts(state(request).hub.db, user.department)
    return render(request, "dept_admission.html", drafts=mine, periods=PERIODS, error=None)


@router.post("/dept/admission", dependencies=[Depends(check_csrf)])
async def dept_submit(request: Request, user: User = Depends(department)) -> Response:
    form = await request.form()
    upload = form.get("draft")
    title = str(form.get("title") or "").strip() or None
    period = str(form.get("period") or "").strip() or None
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise WebError(
            400, "请选择要提交的表样文件（Excel 表样，或 .yaml/.csv 栏目清单）。", code="draft-missing"
        )
    name = Path(upload.filename).name
    if not name.lower().endswith(SUFFIXES):
        raise WebError(
            400, f"{name}：请提交 Excel 表样（.xlsx/.xls）或栏目清单（.yaml/.csv）。", code="draft-format"
        )
    tmp = Path(tempfile.mkdtemp(prefix="hub-draft-"))
    try:
        path = tmp / name
        size = 0
        with path.open("wb") as out:
            while chunk := await upload.read(1 << 16):
                size += len(chunk)
                if size > MAX_DRAFT_BYTES:
                    raise WebError(
                        400, f"{name}：表样超过 {MAX_DRAFT_BYTES // 1048576} MB，请只提交表头和几行示例。"
                    )
                out.write(chunk)
        review = state(request).hub.admission_submit(
            path, department=user.department or "", by=user.username, title=title, period=period
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return RedirectResponse(f"/dept/admission/{review['draft_id']}", status_code=303)


@router.get("/dept/admission/{draft_id}")
def dept_review(request: Request, draft_id: int, user: User = Depends(department)) -> Response:
    review = _review(request, draft_id)
    if review["department"] != user.department:
        raise WebError(404, f"没有编号为 {draft_id} 的本部门草案。", code="draft-missing")
    return render(request, "admission_review.html", r=review, decide=False)


@router.get("/steward/admission")
def steward_admission(request: Request, user: User = Depends(steward)) -> Response:
    db = state(request).hub.db
    return render(
        request, "steward_admission.html", drafts=admission.drafts(db), registry=admission.registry(db)
    )


@router.get("/steward/admission/{draft_id}")
def steward_review(request: Request, draft_id: int, user: User = Depends(steward)) -> Response:
    return render(request, "admission_review.html", r=_review(request, draft_id), decide=True)


@router.post("/steward/admission/{draft_id}/decide", dependencies=[Depends(check_csrf)])
def steward_decide(
    request: Request,
    draft_id: int,
    decision: str = Form(""),
    reason: str = Form(""),
    user: User = Depends(steward),
) -> Response:
    state(request).hub.admission_decide(draft_id, decision, reason=reason, by=user.username)
    return RedirectResponse(f"/steward/admission/{draft_id}", status_code=303)


@router.get("/steward/burden")
def steward_burden(request: Request, user: User = Depends(steward)) -> Response:
    return render(request, "steward_burden.html", ledger=state(request).hub.burden())
