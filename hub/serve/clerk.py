"""Pages of the township clerk: upload, results, history, preview, conflicts, the 一张表 workbook.
Every query is scoped to the clerk's own township."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from hub.facade import LEDGER_SUFFIXES
from hub.serve.accounts import User
from hub.serve.columns import Choices, field_options, read_confirmation, stored_upload
from hub.serve.reports import catalogue
from hub.serve.web import (
    WebError,
    check_csrf,
    clerk,
    current_user,
    forbidden,
    not_found,
    render,
    state,
    township_name,
)

router = APIRouter(include_in_schema=False)
CHUNK = 1024 * 1024
SHOWN_FINDINGS = 5000


EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)


def parse_date(text: str | None) -> date:
    """A report date from a query or form value; a bad or out-of-range one is a 400 in Chinese
    (a date like 0001-01-01 parses, but no report period starts before it)."""
    if not text:
        return date.today()
    try:
        value = datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise WebError(
            400, f"日期“{text[:40]}”格式不对，应为 YYYY-MM-DD，例如 2026-11-30。", code="bad-date"
        ) from None
    if not EARLIEST <= value <= LATEST:
        raise WebError(
            400,
            f"日期“{text}”超出可用范围（{EARLIEST:%Y-%m-%d} 至 {LATEST:%Y-%m-%d}），请填写报表所属的日期。",
            code="bad-date",
        )
    return value


def _town(user: User) -> str:
    if not user.township_code:
        raise forbidden("此账户没有所属乡镇。")
    return user.township_code


@router.get("/clerk")
def clerk_home(request: Request, user: User = Depends(clerk)) -> Response:
    town = _town(user)
    recent = state(request).hub.db.dicts(
        "SELECT * FROM hub_submissions WHERE township_code = ? ORDER BY submission_id DESC LIMIT 5", [town]
    )
    st = state(request)
    from hub.exchange.feedback import open_counts

    return render(
        request,
        "clerk_home.html",
        waiting=open_counts(st.hub.db, town),
        town=township_name(request, town),
        recent=recent,
        max_mb=st.max_upload_bytes // 1048576,
        max_files=st.max_files,
        suffixes=sorted(LEDGER_SUFFIXES),
    )


def _safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name.strip() or "upload"
    return re.sub(r"[^\w.\-\u4e00-\u9fff（）()]", "_", base)[:120]


@router.post("/clerk/upload", dependencies=[Depends(check_csrf)])
async def upload(request: Request, user: User = Depends(clerk)) -> Response:
    st = state(request)
    town = _town(user)
    form = await request.form()
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not files:
        raise WebError(400, "请选择要上传的台账文件。", code="no-files")
    if len(files) > st.max_files:
        raise WebError(413, f"一次最多上传 {st.max_files} 个文件。", code="too-many-files")
    folder = st.hub.home / "uploads" / town
    folder.mkdir(parents=True, exist_ok=True)
    paths, display, refused = [], [], []
    for item in files:
        name = _safe_name(item.filename or "upload")
        if Path(name).suffix.lower() not in LEDGER_SUFFIXES:
            refused.append(
                {
                    "file": name,
                    "status": "refused",
                    "message": f"{name}: 不支持的文件类型，请上传 {'、'.join(sorted(LEDGER_SUFFIXES))} 文件。",
                }
            )
            continue
        target = (
            folder / f"{datetime.now():%Y%m%d%H%M%S}_{secrets.token_hex(4)}" / name
        )  # keeps the clerk's name
        target.parent.mkdir(parents=True, mode=0o700)
        size = 0
        # the clerk's file holds ID numbers: readable by the hub's own account only (0600)
        with os.fdopen(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            while chunk := await item.read(CHUNK):
                size += len(chunk)
                if size > st.max_upload_bytes:
                    break
                out.write(chunk)
        if size > st.max_upload_bytes:
            target.unlink(missing_ok=True)
            target.parent.rmdir()
            refused.append(
                {
                    "file": name,
                    "status": "refused",
                    "message": f"{name}: 文件超过 {st.max_upload_bytes // 1048576} MB 上限，未导入。请按村拆分后上传。",
                }
            )
            continue
        paths.append(target)
        display.append(name)
    job = st.jobs.submit(user.username, town, paths, display, refused)
    st.prune_if_due()
    return _to_job(request, job.id)


def _to_job(request: Request, job_id: str) -> Response:
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"job": job_id, "url": f"/clerk/jobs/{job_id}"})
    return RedirectResponse(f"/clerk/jobs/{job_id}", status_code=303)


@router.get("/clerk/jobs/{job_id}")
def job_page(request: Request, job_id: str, user: User = Depends(clerk)) -> Response:
    job = state(request).jobs.get(job_id)
    if job is None or job.township != _town(user):
        raise not_found("找不到该上传任务（任务记录只保留在本次服务运行期间，可在“报送历史”中查看结果）。")
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(job.to_dict())
    return render(
        request, "clerk_job.html", job=job.to_dict(), fields=field_options(state(request).hub), chosen={}
    )


# -- the column step: a held upload's columns confirmed by the clerk, then ingested again ---------


def _column_page(
    request: Request,
    upload_id: str,
    name: str,
    sheets: list[dict[str, Any]],
    chosen: Choices | None = None,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "clerk_columns.html",
        status_code=status_code,
        upload=upload_id,
        file=name,
        sheets=sheets,
        rows=sum(int(s.get("rows") or 0) for s in sheets),
        fields=field_options(state(request).hub),
        chosen=chosen or {},
        problems=problems or [],
    )


@router.get("/clerk/uploads/{upload_id}/columns")
def column_step(request: Request, upload_id: str, user: User = Depends(clerk)) -> Response:
    """The column step of a held upload (the job page shows the same form while the job is kept)."""
    hub, town = state(request).hub, _town(user)
    path = stored_upload(hub, town, upload_id)
    guesses = hub.column_guesses(path, township=town)
    return _column_page(request, upload_id, path.name, [s for s in guesses["sheets"] if s["held"]])


@router.post("/clerk/uploads/{upload_id}/columns", dependencies=[Depends(check_csrf)])
async def confirm_columns(request: Request, upload_id: str, user: User = Depends(clerk)) -> Response:
    """Ingest the same stored upload again with the columns the clerk confirmed, as a job; the
    facade remembers the mapping for the township and layout once the file is in."""
    st, town = state(request), _town(user)
    path = stored_upload(st.hub, town, upload_id)
    form = await request.form()
    guesses = await run_in_threadpool(st.hub.column_guesses, path, town)
    columns, chosen, problems = read_confirmation(form, guesses["sheets"], st.hub.schema.fields)
    if problems:
        shown = [s for s in guesses["sheets"] if s["layout"] in columns]
        return _column_page(request, upload_id, path.name, shown, chosen, problems, status_code=400)
    job = st.jobs.submit(user.username, town, [path], [path.name], columns=columns)
    return _to_job(request, job.id)


def _submission(request: Request, sid: int) -> dict[str, Any]:
    user = current_user(request)
    rows = state(request).hub.db.dicts("SELECT * FROM hub_submissions WHERE submission_id = ?", [sid])
    if not rows:
        raise not_found("找不到该报送记录。")
    if user.role == "steward":
        return rows[0]
    if user.role != "clerk" or rows[0]["township_code"] != user.township_code:
        raise forbidden("这份报送不属于您的乡镇。")
    return rows[0]


@router.get("/clerk/submissions")
def history(request: Request, user: User = Depends(clerk)) -> Response:
    town = _town(user)
    rows = state(request).hub.db.dicts(
        "SELECT * FROM hub_submissions WHERE township_code = ? ORDER BY submission_id DESC", [town]
    )
    return render(request, "clerk_history.html", town=township_name(request, town), rows=rows)


@router.get("/clerk/submissions/{sid}")
def result(request: Request, sid: int, q: str = "", severity: str = "", column: str = "") -> Response:
    sub = _submission(request, sid)
    db = state(request).hub.db
    where: list[str] = ["submission_id = ?"]
    params: list[Any] = [sid]
    if severity in ("error", "warning"):
        where.append("severity = ?")
        params.append(severity)
    if column:
        where.append("column_name = ?")
        params.append(column)
    if q:
        where.append("(message ILIKE ? OR value ILIKE ? OR CAST(row_no AS VARCHAR) = ?)")
        params += [f"%{q}%", f"%{q}%", q.strip()]
    findings = db.dicts(
        f"SELECT sheet, row_no, column_name, value, code, severity, message FROM hub_findings WHERE {' AND '.join(where)} "
        f"ORDER BY sheet, row_no, column_name LIMIT {SHOWN_FINDINGS + 1}",
        params,
    )
    columns = [
        r[0]
        for r in db.rows(
            "SELECT DISTINCT column_name FROM hub_findings WHERE submission_id = ? AND column_name IS NOT NULL ORDER BY 1",
            [sid],
        )
    ]
    return render(
        request,
        "clerk_result.html",
        sub=sub,
        findings=findings[:SHOWN_FINDINGS],
        more=len(findings) > SHOWN_FINDINGS,
        columns=columns,
        q=q,
        severity=severity,
        column=column,
        town=township_name(request, sub["township_code"]),
    )


@router.get("/clerk/submissions/{sid}/annotated")
def annotated(request: Request, sid: int) -> Response:
    sub = _submission(request, sid)
    path = Path(sub["annotated_path"] or "")
    if not sub["annotated_path"] or not path.is_file():
        raise not_found("这份报送没有标注副本（没有发现问题，或文件已被清理）。")
    name = f"{Path(sub['file_name']).stem}_批注.xlsx"
    return FileResponse(
        path, filename=name, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


@router.get("/clerk/preview")
def preview(request: Request, report: str = "", date: str = "", user: User = Depends(clerk)) -> Response:
    from hub.export import preview_report

    town, ref = _town(user), parse_date(date)
    reports = [r for r in catalogue() if r.scope == "township"]
    chosen = next((r for r in reports if r.id == report), None if report else reports[0] if reports else None)
    if report and chosen is None:
        raise WebError(400, f"没有编号为“{report[:40]}”的按乡镇报表，请从列表中选择。", code="report-unknown")
    rows: list[dict[str, Any]] = []
    if chosen is not None:
        rows = preview_report(state(request).hub.db, chosen.id, town, ref)
    return render(
        request,
        "clerk_preview.html",
        reports=reports,
        chosen=chosen,
        rows=rows[:500],
        total=len(rows),
        headers=list(rows[0]) if rows else [],
        ref=ref,
        town=township_name(request, town),
    )


@router.get("/clerk/conflicts")
def conflicts(request: Request, user: User = Depends(clerk)) -> Response:
    from hub.serve.privacy import clerk_conflicts

    town = _town(user)
    items = clerk_conflicts(state(request).hub, town)
    return render(request, "conflicts.html", items=items, town=township_name(request, town))


@router.get("/clerk/template")
def template(request: Request, user: User = Depends(clerk)) -> Response:
    from hub.serve.template import build_template

    town = _town(user)
    tmp = Path(tempfile.mkdtemp(prefix="hub-template-"))
    path = build_template(state(request).hub, town, tmp / f"{town}.xlsx")
    content = path.read_bytes()
    path.unlink(missing_ok=True)
    tmp.rmdir()
    name = f"{township_name(request, town)}_一张表_{date.today():%Y%m%d}.xlsx"
    from urllib.parse import quote

    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )
