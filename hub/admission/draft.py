"""A department's draft report, read from what it sends: its own xlsx template (header rows, maybe
example rows) or a column list (YAML, or CSV ``栏目,口径说明``)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from hub import yamlio
from hub.admission.classify import DraftColumn
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.ingest.divisions import Divisions
    from hub.model import Schema

PERIODS = {"monthly": "月报", "quarterly": "季报", "annual": "年报", "on_demand": "按需"}
PERIOD_WORDS = {"月": "monthly", "季": "quarterly", "年": "annual"}
#: department → the two letters of its report ids (MZ-DIBAO)
DEPT_PREFIX = {
    "民政": "MZ",
    "残联": "CL",
    "卫健": "WJ",
    "统计": "TJ",
    "公安": "GA",
    "市场监管": "SJ",
    "人社": "RS",
    "医保": "YB",
    "教育": "JY",
    "农业农村": "NY",
    "乡村振兴": "XC",
    "住建": "ZJ",
    "退役军人": "TY",
    "应急": "YJ",
    "自然资源": "ZR",
    "生态环境": "HB",
    "妇联": "FL",
    "司法": "SF",
}
MAX_COLUMNS = 200
ID_RE = re.compile(r"^[A-Z]{2}-[A-Z0-9]+$")


@dataclass
class Draft:
    department: str
    title: str
    period: str
    columns: list[DraftColumn]
    report_id: str | None = None
    population: str | None = None
    legal_basis: str | None = None
    source: str = ""
    notes: list[str] = field(default_factory=list)


def _period(text: str | None, title: str) -> str:
    if text in PERIODS:
        return str(text)
    for word, value in PERIOD_WORDS.items():
        if text and word in text:
            return value
    if re.search(r"季度|季报", title):
        return "quarterly"
    if re.search(r"月报|每月|月份|\d+月", title):
        return "monthly"
    if re.search(r"年报|年度|\d{4}年", title):
        return "annual"
    return "monthly"


def _column(item: Any, where: str) -> DraftColumn:
    if isinstance(item, str):
        return DraftColumn([p for p in item.split("/") if p.strip()])
    if isinstance(item, dict):
        label = item.get("label") or item.get("栏目") or item.get("名称")
        if isinstance(label, str):
            path = [p for p in label.split("/") if p.strip()]
        elif isinstance(label, list) and all(isinstance(x, str) for x in label):
            path = list(label)
        else:
            raise HubError(f"{where}：每个栏目要有 label（栏目名称）。", code="draft-bad")
        examples = [str(x) for x in item.get("examples", []) or []]
        note = str(item.get("note") or item.get("口径") or "")
        return DraftColumn(path, note, examples)
    raise HubError(f"{where}：栏目应写成文字，或含 label、note 的映射。", code="draft-bad")


def read_draft(
    path: Path,
    schema: Schema,
    divisions: Divisions | None = None,
    *,
    department: str | None = None,
    title: str | None = None,
    period: str | None = None,
) -> Draft:
    """The draft in ``path``; bad input is a :class:`HubError` in Chinese."""
    path = Path(path)
    if not path.is_file():
        raise HubError(f"文件不存在：{path}", file=str(path), code="draft-missing")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        draft = _read_yaml(path)
    elif suffix in (".csv", ".txt"):
        draft = _read_csv(path)
    elif suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        draft = _read_sheet(path, schema, divisions)
    else:
        raise HubError(
            f"不支持的草案格式：{path.name}",
            file=path.name,
            hint="请提交部门的 Excel 表样（.xlsx/.xls），或栏目清单（.yaml/.csv：栏目,口径说明）。",
            code="draft-format",
        )
    draft.source = path.name
    if department:
        draft.department = department
    if title:
        draft.title = title
    if period:
        draft.period = _period(period, draft.title)
    if not draft.department:
        raise HubError("请指明提出报表的部门（--dept 民政 等）。", file=path.name, code="draft-dept")
    if not draft.columns:
        raise HubError("草案中没有找到任何栏目。", file=path.name, code="draft-empty")
    if len(draft.columns) > MAX_COLUMNS:
        raise HubError(f"草案栏目过多（{len(draft.columns)} 列，上限 {MAX_COLUMNS}）。", code="draft-bad")
    if draft.report_id and not ID_RE.fullmatch(draft.report_id):
        raise HubError(f"报表编号“{draft.report_id}”不合法，应形如 WJ-CJFW。", code="draft-bad")
    return draft


def _read_yaml(path: Path) -> Draft:
    try:
        data = yamlio.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise HubError(f"栏目清单不是有效的 YAML（UTF-8）：{exc}", file=path.name, code="draft-bad") from exc
    if not isinstance(data, dict) or not isinstance(data.get("columns"), list):
        raise HubError(
            "栏目清单应含 columns: 列表（每项为栏目名称，或 label/note）。", file=path.name, code="draft-bad"
        )
    title = str(data.get("title") or path.stem)
    return Draft(
        department=str(data.get("department") or ""),
        title=title,
        period=_period(data.get("period"), title),
        columns=[_column(c, f"{path.name} 第{i + 1}栏") for i, c in enumerate(data["columns"])],
        report_id=data.get("report_id") or data.get("id"),
        population=data.get("population"),
        legal_basis=data.get("legal_basis"),
    )


def _read_csv(path: Path) -> Draft:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise HubError("栏目清单的编码无法识别（请用 UTF-8 或 GBK）。", file=path.name, code="draft-bad")
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if rows and rows[0][0].strip() in ("栏目", "label", "名称", "栏目名称", "指标", "指标名称"):
        rows = rows[1:]
    cols = [
        DraftColumn([p for p in r[0].split("/") if p.strip()], r[1].strip() if len(r) > 1 else "")
        for r in rows
    ]
    return Draft("", path.stem, _period(None, path.stem), [c for c in cols if c.path])


def _read_sheet(path: Path, schema: Schema, divisions: Divisions | None) -> Draft:
    from hub.ingest.columns import HeaderMatcher
    from hub.ingest.fill import fill_merged
    from hub.ingest.layout import detect_layout
    from hub.ingest.readers import read_sheets

    try:
        sheets = read_sheets(path)
    except HubError:
        raise
    except Exception as exc:  # a damaged workbook: say so, never a traceback
        raise HubError(f"表样无法读取：{exc}", file=path.name, code="draft-bad") from exc
    if not sheets:
        raise HubError("表样中没有工作表。", file=path.name, code="draft-empty")
    raw = sheets[0]
    layout = detect_layout(raw, HeaderMatcher.from_schema(schema), schema, divisions)
    title = ""
    if layout is not None and layout.columns:
        title = layout.title or ""
        data = layout.data
        columns = []
        for c in layout.columns:
            values = data[f"c{c.col_index}"].to_pylist() if f"c{c.col_index}" in data.column_names else []
            columns.append(
                DraftColumn([p for p in c.header.split("/") if p], "", [str(v) for v in values[:50] if v])
            )
        return Draft("", title or path.stem, _period(None, title or path.stem), columns)
    # a form whose header names fewer than two ledger fields (an aggregate table): the first row of
    # three or more cells is the header, with a row of group cells above it when merges show one
    table = fill_merged(raw.table, raw.merged)
    width = table.num_columns - 1
    rows = [
        [str(r.get(f"c{c}") or "").strip() for c in range(1, width + 1)]
        for r in table.slice(0, 20).to_pylist()
    ]
    # a merged title is filled across the row: a header row has three or more different cells
    start = next((i for i, r in enumerate(rows) if len({c for c in r if c}) >= 3), None)
    if start is None:
        raise HubError("表样中找不到表头（至少三个栏目的一行）。", file=path.name, code="draft-empty")
    title = next((next(c for c in r if c) for r in rows[:start] if any(r)), path.stem)
    block = [rows[start]]
    first = rows[start]
    grouped = any(first[i] and first[i] == first[i + 1] for i in range(len(first) - 1))
    if grouped and start + 1 < len(rows):
        block.append(rows[start + 1])
    columns = []
    for i in range(width):
        segs: list[str] = []
        for r in block:
            if r[i] and (not segs or segs[-1] != r[i]):
                segs.append(r[i])
        if segs:
            columns.append(DraftColumn(segs))
    return Draft("", title, _period(None, title), columns)
