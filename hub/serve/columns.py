"""The clerk's column step: a held upload's columns shown with the hub's guesses, the clerk's
choices read back and checked, and the steward's view of the remembered mappings.

A held file stays on disk where the upload put it (``HUB_HOME/uploads/<township>/<upload id>/<name>``);
the confirmation re-runs the ingest of that same file with ``columns={layout: {header: field}}`` and
the facade remembers the mapping once the file is in (:meth:`hub.facade.Hub.ingest`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.ingest.types import twins_allowed
from hub.serve.web import WebError, not_found

if TYPE_CHECKING:
    from starlette.datastructures import FormData

    from hub.facade import Hub

UPLOAD_ID = re.compile(r"\d{14}_[0-9a-f]{8}")
Choices = dict[str, dict[int, str | None]]  # layout -> col_index -> field (None: 不入库)
Columns = dict[str, dict[str, str | None]]  # layout -> header as written -> field (None: 不入库)


def field_options(hub: Hub) -> list[tuple[str, str]]:
    """Every canonical field as (name, Chinese label), in the schema's order: the drop-down."""
    return [(name, spec.label) for name, spec in hub.schema.fields.items()]


def stored_upload(hub: Hub, township: str, upload_id: str) -> Path:
    """The stored file of one upload of ``township``; 404 for anything else (another township's
    upload is not found, not forbidden: its existence is not told)."""
    if not UPLOAD_ID.fullmatch(upload_id):
        raise not_found("找不到该上传文件。")
    folder = hub.home / "uploads" / township / upload_id
    files = [f for f in folder.iterdir() if f.is_file()] if folder.is_dir() else []
    if len(files) != 1:
        raise not_found("找不到该上传文件（可能已被清理）。请重新上传台账。")
    return files[0]


def preselected(col: Mapping[str, Any]) -> str | None:
    """The field the drop-down starts on: the hub's guess for a column held for confirmation (whose
    ``field`` stays None until the clerk confirms it), else the field it was placed on."""
    return col.get("guess") if col.get("held") else col.get("field")


def field_name(field: str | None, fields: Mapping[str, Any]) -> str:
    if not field:
        return "不入库"
    spec = fields.get(field)
    return f"{spec.label}（{field}）" if spec is not None else field


def read_confirmation(
    form: FormData, sheets: list[dict[str, Any]], fields: Mapping[str, Any]
) -> tuple[Columns, Choices, list[str]]:
    """The clerk's choices for the sheets named in ``form`` (hidden ``layout`` fields; one
    ``col-<layout>-<col_index>`` select per column). Returns the mapping to ingest with, the choices
    (to show the form again) and the problems the clerk must fix (a field picked for two columns).
    A value that is not a canonical field is a 400: the drop-down cannot send one."""
    from hub.ingest.columns.normalise import full_header

    by_layout = {s["layout"]: s for s in sheets}
    posted = [str(v) for v in form.getlist("layout")]
    chosen_sheets = [by_layout[key] for key in dict.fromkeys(posted) if key in by_layout]
    if not chosen_sheets:
        raise WebError(
            400,
            "提交的列确认与这份文件的表头对不上（文件可能已被替换）。请重新打开上传结果页后再确认。",
            code="stale-columns",
        )
    columns: Columns = {}
    choices: Choices = {}
    problems: list[str] = []
    for sheet in chosen_sheets:
        key = sheet["layout"]
        picks: dict[int, str | None] = {}
        for col in sheet["columns"]:
            raw = form.get(f"col-{key}-{col['col_index']}")
            value = (preselected(col) or "") if raw is None else str(raw).strip()
            if value and value not in fields:
                raise WebError(
                    400,
                    f"“{value[:40]}”不是标准字段。请从下拉列表中选择字段，或选“不入库”。",
                    code="bad-field",
                )
            picks[col["col_index"]] = value or None
        choices[key] = picks
        where = f"工作表“{sheet['sheet']}”"
        used: dict[str, list[str]] = {}
        for col in sheet["columns"]:
            if (field := picks[col["col_index"]]) is not None:
                used.setdefault(field, []).append(f"{col['col']}列“{col['header'] or '（无表头）'}”")
        for field, cols in used.items():
            if len(cols) > 1 and not twins_allowed(field):
                problems.append(
                    f"{where}：{'、'.join(cols)}都选了“{fields[field].label}”。姓名、身份证号、名称等说明对象身份的字段只能对应一列，"
                    "请改选其中一列（不需要的列选“不入库”）。"
                )
        mapping: dict[str, str | None] = {}
        by_header: dict[str, tuple[str, str | None]] = {}
        for col in sheet["columns"]:
            header, field = str(col["header"] or ""), picks[col["col_index"]]
            seen = by_header.setdefault(full_header(header), (header, field))
            if seen[1] != field:
                problems.append(
                    f"{where}：有两列表头都是“{header or '（无表头）'}”，但选了不同的字段。系统按表头记住列映射，"
                    "请先在台账中改动其中一列的表头再上传，或两列选同一项。"
                )
            mapping[header] = field
        columns[key] = mapping
    return columns, choices, problems


def mapping_rows(hub: Hub, township: str | None = None) -> list[dict[str, Any]]:
    """Every remembered confirmation, newest first, with its columns (header → field) and its state:
    在用 (the active mapping), 历史 (replaced by a newer confirmation), 已停用 (switched off)."""
    from hub.ingest.columns.memory import history
    from hub.ingest.columns.normalise import full_header

    fields = hub.schema.fields
    names = {
        str(code): str(name)
        for code, name in hub.db.rows(
            "SELECT left(code, 9), name FROM hub_divisions WHERE level = 'township'"
        )
    }
    newest: set[tuple[str | None, str]] = set()
    rows = history(hub.db, township or None)
    for r in rows:
        key = (r["township_code"], r["layout"])
        if r["active"]:
            r["state"], r["state_class"] = "在用", "active"
        elif key in newest:
            r["state"], r["state_class"] = "历史", "history"
        else:
            r["state"], r["state_class"] = "已停用", "off"
        newest.add(key)
        r["township_name"] = names.get(str(r["township_code"]), r["township_code"] or "（未定乡镇）")
        r["pairs"] = [
            (header, field_name(r["mapping"].get(full_header(header)), fields)) for header in r["headers"]
        ]
    return rows
