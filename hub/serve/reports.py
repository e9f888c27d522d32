"""Department reports as the web sees them: the catalogue (who owns what, from each spec's
``department`` field), producing one file through the facade, and the access log."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from hub import yamlio
from hub.errors import HubError
from hub.paths import mappings_dir

if TYPE_CHECKING:
    from hub.facade import Hub
    from hub.serve.accounts import User

PERIODS = {"monthly": "月报", "quarterly": "季报", "annual": "年报", "on_demand": "按需"}


@dataclass(frozen=True)
class ReportInfo:
    id: str
    department: str
    title: str
    period: str
    scope: str  # township | county
    format: str  # xlsx | csv
    sheets: int

    @property
    def json_rows(self) -> bool:
        """JSON rows are offered where a report is one table (one sheet)."""
        return self.sheets == 1

    def period_label(self, ref: date) -> str:
        if self.period == "monthly":
            return f"{ref.year}年{ref.month}月"
        if self.period == "quarterly":
            return f"{ref.year}年第{(ref.month - 1) // 3 + 1}季度"
        if self.period == "annual":
            return f"{ref.year}年"
        return ref.isoformat()


_CATALOGUE: dict[str, tuple[tuple[tuple[str, int, int], ...], list[ReportInfo]]] = {}


def catalogue(directory: Path | None = None) -> list[ReportInfo]:
    """Every mapping spec that names its id and department (malformed specs are the steward's
    business: `hub mappings check` reports them). Parsed again only when a spec file changed (every
    pull asks; parsing seven specs cost seconds under load)."""
    folder = directory or mappings_dir()
    paths = sorted(folder.glob("*.yaml"))
    try:
        stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    except OSError:
        stamp = ()
    cached = _CATALOGUE.get(str(folder))
    if stamp and cached is not None and cached[0] == stamp:
        return list(cached[1])
    out = _parse_catalogue(paths)
    if stamp:
        _CATALOGUE[str(folder)] = (stamp, out)
    return list(out)


def _parse_catalogue(paths: list[Path]) -> list[ReportInfo]:
    out = []
    for path in paths:
        try:
            data = yamlio.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if not isinstance(data, dict) or not data.get("id") or not data.get("department"):
            continue
        output: dict[str, Any] = data["output"] if isinstance(data.get("output"), dict) else {}
        out.append(
            ReportInfo(
                id=str(data["id"]),
                department=str(data["department"]),
                title=str(data.get("title") or data["id"]),
                period=str(data.get("period") or "on_demand"),
                scope=str(data.get("scope") or "township"),
                format=str(output.get("format") or "xlsx"),
                sheets=len(data.get("sheets") or []),
            )
        )
    return out


def report_for(user: User, report_id: str) -> ReportInfo:
    """The report if ``user`` may pull it (departments: their own reports only)."""
    from hub.serve.web import WebError

    found = next((r for r in catalogue() if r.id == report_id), None)
    if found is None:
        raise WebError(404, f"没有编号为 {report_id} 的报表。", code="report-unknown")
    if user.role == "department" and found.department != user.department:
        raise WebError(
            403, f"报表 {report_id} 属于{found.department}，{user.department}无权获取。", code="forbidden"
        )
    if user.role not in ("department", "steward"):
        raise WebError(403, "只有部门用户和数据管理员可以下载部门报表。", code="forbidden")
    return found


@dataclass
class Produced:
    content: bytes
    filename: str
    media_type: str
    records: int
    sha256: str
    problems: list[str]
    cursor: str | None = None  # the changes feed's cursor of the same data (X-Hub-Cursor)


MEDIA = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv",
    ".json": "application/json",
}


def produce(hub: Hub, info: ReportInfo, township: str | None, ref: date) -> Produced:
    """The report exactly as `hub export` writes it, for one township (or county-wide), computed once
    per data version and then served from the content-addressed cache (docs/exchange.md)."""
    from hub.exchange.snapshot import file_bytes

    if info.scope != "county" and not township:
        raise HubError(
            f"报表 {info.id} 按乡镇生成，请指定 township（9位乡镇代码）。", code="township-required"
        )
    snap = hub.report_file(info.id, None if info.scope == "county" else township, ref)
    if not snap.meta.get("has_data"):
        raise HubError(f"{info.id} 在该乡镇、该报告期没有数据，未生成文件。", code="no-data")
    content = file_bytes(hub.home, snap)
    meta = snap.meta["file"]
    return Produced(
        content=content,
        filename=meta["filename"],
        media_type=meta["media_type"],
        records=int(snap.meta["records"]),
        sha256=meta["sha256"],
        problems=[str(p) for p in snap.meta.get("problems") or []],
        cursor=snap.cursor,
    )


def produce_json(hub: Hub, info: ReportInfo, township: str | None, ref: date) -> tuple[int, bytes]:
    """The report's one table as JSON: ``records`` (the distinct entities covered, the figure the
    xlsx/csv pull of the same report states in X-Hub-Records), ``rows`` (the data rows) and
    ``total`` (the 合计 row, or null). Returns (records, body); identical data gives identical bytes."""
    from hub.export import report_rows

    if not info.json_rows:
        raise HubError(
            f"报表 {info.id} 含多个工作表，不提供 JSON 行，请用 format=xlsx 或 csv。", code="json-unavailable"
        )
    got = report_rows(hub.db, info.id, None if info.scope == "county" else township, ref)
    import json

    body = json.dumps(
        {
            "report": info.id,
            "township": township,
            "date": ref.isoformat(),
            "records": got.records,
            "rows": got.rows,
            "total": got.total,
        },
        ensure_ascii=False,
        default=str,
    ).encode("utf-8")
    return got.records, body


def log_access(
    hub: Hub,
    user: User,
    *,
    channel: str,
    report: str,
    township: str | None,
    ref: date,
    purpose: str,
    fmt: str,
    records: int | None,
    sha256: str,
) -> None:
    db = hub.db
    with db.transaction():
        access_id = int(db.scalar("SELECT nextval('hub_access_seq')"))
        db.execute(
            "INSERT INTO hub_access_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                access_id,
                datetime.now(),
                user.username,
                user.role,
                user.department,
                channel,
                report,
                township,
                ref,
                purpose,
                fmt,
                records,
                sha256,
            ],
        )


LOG_COLUMNS = [
    "access_id",
    "accessed_at",
    "username",
    "role",
    "department",
    "channel",
    "report",
    "township_code",
    "ref_date",
    "purpose",
    "format",
    "records",
    "sha256",
]
LOG_HEADERS = [
    "序号",
    "时间",
    "用户",
    "角色",
    "部门",
    "渠道",
    "报表",
    "乡镇代码",
    "报表日期",
    "用途",
    "格式",
    "记录数",
    "文件哈希(SHA-256)",
]


def access_log(
    hub: Hub,
    *,
    department: str | None = None,
    report: str | None = None,
    township: str | None = None,
    username: str | None = None,
    limit: int | None = 500,
) -> list[dict[str, Any]]:
    where, params = [], []
    for column, value in (
        ("department", department),
        ("report", report),
        ("township_code", township),
        ("username", username),
    ):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    sql = (
        "SELECT * FROM hub_access_log"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY access_id DESC"
    )
    if limit:
        sql += f" LIMIT {int(limit)}"
    return hub.db.dicts(sql, params)


def access_log_csv(rows: list[dict[str, Any]]) -> bytes:
    """The access log as UTF-8 CSV (with BOM, for Excel); text a spreadsheet would evaluate (a stated
    purpose ``=HYPERLINK(…)``) gets a leading ``'`` (:mod:`hub.safecell`)."""
    from hub.safecell import csv_text

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(LOG_HEADERS)
    for r in rows:
        writer.writerow(["" if r[c] is None else csv_text(r[c]) for c in LOG_COLUMNS])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
