"""Pages of the data steward: the canonical schema, mappings (check, preview, publish, history),
the clerks' remembered column mappings, the access log, conflicts, all submissions and the
great-expectations validation report."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from hub.serve import specs
from hub.serve.accounts import User
from hub.serve.clerk import parse_date
from hub.serve.columns import mapping_rows
from hub.serve.reports import access_log, access_log_csv, catalogue
from hub.serve.web import WebError, check_csrf, not_found, render, state, steward, townships

router = APIRouter(prefix="/steward", include_in_schema=False)
MAX_SPEC_BYTES = 256 * 1024
# great-expectations pages carry inline styles; they get no scripts and stay same-origin.
DOCS_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'none'"
}


@router.get("")
def home(request: Request, user: User = Depends(steward)) -> Response:
    hub = state(request).hub
    return render(request, "steward_home.html", status=hub.status(), pending=hub.review_count())


@router.get("/schema")
def schema(request: Request, user: User = Depends(steward)) -> Response:
    return render(request, "steward_schema.html", schema=state(request).hub.schema)


@router.get("/mappings")
def mappings(request: Request, user: User = Depends(steward)) -> Response:
    problems = [str(p) for p in state(request).hub.check_mappings(None)]
    return render(request, "steward_mappings.html", reports=catalogue(), problems=problems)


@router.post("/mappings", dependencies=[Depends(check_csrf)])
def new_mapping(request: Request, report_id: str = Form(...), user: User = Depends(steward)) -> Response:
    specs.spec_path(report_id.strip())  # validates the id
    return RedirectResponse(f"/steward/mappings/{report_id.strip()}", status_code=303)


def _editor(request: Request, report_id: str, text: str, **ctx: Any) -> Response:
    ctx.setdefault("problems", None)
    ctx.setdefault("diffs", None)
    ctx.setdefault("message", None)
    ctx.setdefault("ref", parse_date(None))
    return render(
        request,
        "steward_mapping.html",
        report_id=report_id,
        text=text,
        published=specs.published_text(report_id),
        history=specs.history(state(request).hub, report_id),
        **ctx,
    )


@router.get("/mappings/{report_id}")
def mapping(request: Request, report_id: str, published: int = 0, user: User = Depends(steward)) -> Response:
    text = specs.published_text(report_id)
    message = f"已发布为第 {published} 版。导出和部门拉取即时使用新规格。" if published else None
    return _editor(request, report_id, text or f"id: {report_id}\ndepartment: \ntitle: \n", message=message)


@router.post("/mappings/{report_id}", dependencies=[Depends(check_csrf)])
async def mapping_action(request: Request, report_id: str, user: User = Depends(steward)) -> Response:
    specs.spec_path(report_id)
    form = await request.form()
    action, text = str(form.get("action") or "check"), str(form.get("text") or "")
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_SPEC_BYTES + 1)
        if len(raw) > MAX_SPEC_BYTES:
            raise WebError(413, "规格文件太大（上限 256 KB）。", code="too-large")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise WebError(400, "规格文件应为 UTF-8 编码的 YAML。", code="bad-encoding") from None
    text = text.replace("\r\n", "\n")
    ref = parse_date(str(form.get("date") or ""))
    hub = state(request).hub
    problems = specs.check_text(hub, report_id, text)
    if problems or action == "check":
        return _editor(request, report_id, text, problems=problems, ref=ref)
    with_data = {r[0] for r in hub.db.rows("SELECT DISTINCT township_code FROM hub_submissions")}
    towns = [t for t in townships(request) if t["code"] in with_data]
    diffs = specs.preview_change(hub, report_id, text, ref, towns)
    if action == "publish":
        version = specs.publish(hub, report_id, text, user, specs.summarise(diffs))
        return RedirectResponse(f"/steward/mappings/{report_id}?published={version}", status_code=303)
    return _editor(request, report_id, text, problems=[], diffs=diffs, ref=ref)


@router.get("/columns")
def column_maps(
    request: Request, township: str = "", off: int = 0, user: User = Depends(steward)
) -> Response:
    """列映射: every column mapping a clerk confirmed, per township and header layout, with history."""
    rows = mapping_rows(state(request).hub, township.strip() or None)
    message = f"已停用第 {off} 号列映射（保留为历史）：同样表头的台账不再按它导入。" if off else None
    return render(
        request,
        "steward_columns.html",
        rows=rows,
        township=township.strip(),
        towns=townships(request),
        message=message,
    )


@router.post("/columns/{map_id}/deactivate", dependencies=[Depends(check_csrf)])
def deactivate_column_map(request: Request, map_id: int, user: User = Depends(steward)) -> Response:
    """停用: the mapping is kept as history but no longer applied; the layout is asked again."""
    db = state(request).hub.db
    if not db.scalar("SELECT count(*) FROM hub_column_maps WHERE map_id = ?", [map_id]):
        raise not_found("找不到该列映射。")
    db.execute("UPDATE hub_column_maps SET active = false WHERE map_id = ?", [map_id])
    return RedirectResponse(f"/steward/columns?off={map_id}", status_code=303)


@dataclass
class LogFilter:
    """The access log's filters, read from the query string by both the page and the CSV export."""

    department: str = ""
    report: str = ""
    township: str = ""
    username: str = ""


@router.get("/access-log")
def log_page(request: Request, f: LogFilter = Depends(), user: User = Depends(steward)) -> Response:
    rows = access_log(state(request).hub, **asdict(f))
    return render(request, "steward_log.html", rows=rows, f=asdict(f))


@router.get("/access-log.csv")
def log_csv(request: Request, f: LogFilter = Depends(), user: User = Depends(steward)) -> Response:
    rows = access_log(state(request).hub, **asdict(f), limit=None)
    return Response(
        access_log_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": "attachment; filename=access_log.csv"},
    )


@router.get("/conflicts")
def conflicts(request: Request, user: User = Depends(steward)) -> Response:
    return render(request, "conflicts.html", items=state(request).hub.conflicts(None), town="全县")


@router.get("/submissions")
def submissions(request: Request, user: User = Depends(steward)) -> Response:
    rows = state(request).hub.db.dicts(
        "SELECT s.*, d.name AS township_name FROM hub_submissions s "
        "LEFT JOIN hub_divisions d ON d.code = s.township_code ORDER BY submission_id DESC LIMIT 1000"
    )
    return render(request, "clerk_history.html", town="全县", rows=rows)


#: Pairs shown on one review page (the strongest first); a decision brings up the next ones.
REVIEW_PAGE = 100
#: The linkage's comparisons (hub_link_levels) as the review page names them.
COMPARISONS = {
    "name": "姓名", "birth_date": "出生日期", "sex": "性别", "village": "村（社区）", "phone": "电话",
    "id_number": "身份证号码",
}  # fmt: skip


@router.get("/review")
def review(request: Request, done: str | None = None, user: User = Depends(steward)) -> Response:
    """记录复核: the pairs between the thresholds, both records side by side, strongest first."""
    hub = state(request).hub
    pairs = hub.review_pending(REVIEW_PAGE)
    last = None
    if done:
        found = hub.db.dicts(
            "SELECT pair_id, decision, decided_by FROM hub_link_decisions WHERE pair_id = ?", [done]
        )
        last = found[0] if found else None
    return render(
        request,
        "steward_review.html",
        pairs=pairs,
        total=hub.review_count() if len(pairs) == REVIEW_PAGE else len(pairs),
        last=last,
        comparisons=COMPARISONS,
    )


@router.post("/review/{pair_id}", dependencies=[Depends(check_csrf)])
def decide(
    request: Request, pair_id: str, decision: str = Form(...), user: User = Depends(steward)
) -> Response:
    """A steward's decision, applied at once (linkage and merge of the pair's records only)."""
    if decision not in ("accept", "reject"):
        raise WebError(400, "请选择“是同一人”或“不是同一人”。", code="review-decision")
    state(request).hub.review_decide(pair_id, decision, user.username)
    return RedirectResponse(f"/steward/review?done={pair_id}", status_code=303)


@router.post("/merge", dependencies=[Depends(check_csrf)])
def merge(request: Request, user: User = Depends(steward)) -> Response:
    state(request).hub.merge()
    return RedirectResponse("/steward", status_code=303)


def _docs_root(request: Request) -> Path:
    return (state(request).hub.home / "validation").resolve()


@router.get("/validation")
def validation_index(request: Request, user: User = Depends(steward)) -> Response:
    index = _docs_root(request) / "index.html"
    if not index.is_file():
        return render(
            request,
            "error.html",
            status_code=404,
            title="还没有校验报告",
            message="尚未生成 great-expectations 校验报告。",
            hint=f"报告写在 {index} 后即可在此打开。",
        )
    return FileResponse(index, headers=DOCS_HEADERS)


@router.get("/validation/{path:path}")
def validation_file(request: Request, path: str, user: User = Depends(steward)) -> Response:
    root = _docs_root(request)
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise not_found()
    return FileResponse(target, headers=DOCS_HEADERS)
