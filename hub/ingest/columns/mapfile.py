"""The column mapping a clerk edits: written by ``hub columns FILE``, read by ``hub ingest --columns``.

YAML, one entry per sheet: its layout key and its columns with the hub's guess. The clerk corrects
``field`` (a canonical field name such as ``name``, or its Chinese label such as ``姓名``; ``null`` for a
column that holds no field) and passes the file back. Comments carry the confidence, the evidence and
the alternatives so that the file can be read without the hub::

    file: 青山镇_商户.xlsx
    sheets:
    - sheet: Sheet1
      layout: 3f2a9c0d11e4b7a2
      columns:
      - {col: B, header: "商号", field: business_name}   # 名称？把握 77%：90% 的值是商户名称
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from hub import yamlio
from hub.errors import IngestError
from hub.model import Schema, fold

HEAD = (
    "# 一表通 Hub 列映射。请核对每一列的 field：填字段名（如 name）或中文名（如 姓名），"
    "不入库的列填 null。\n"
    "# 改好后运行：hub ingest <台账文件> --columns <本文件>。确认过的映射会记住，"
    "同一乡镇同样表头的台账下次不再询问。\n"
    "# 可用字段：{fields}\n"
)


class _Col(BaseModel):
    model_config = ConfigDict(extra="forbid")
    col: str | int
    header: str = ""
    field: str | None = None


class _Sheet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sheet: str
    layout: str
    columns: list[_Col]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: str | None = None
    township: str | None = None
    sheets: list[_Sheet]


def write_mapfile(guesses: dict[str, Any], schema: Schema) -> str:
    """The YAML text of :meth:`hub.facade.Hub.column_guesses`'s answer, with a comment per column."""
    fields = "、".join(f"{name}（{spec.label}）" for name, spec in schema.fields.items())
    lines = [HEAD.format(fields=fields).rstrip("\n")]
    lines.append(f"file: {json.dumps(guesses['file'], ensure_ascii=False)}")
    if guesses.get("township"):
        lines.append(f"township: {json.dumps(guesses['township'], ensure_ascii=False)}")
    lines.append("sheets:")
    for sheet in guesses["sheets"]:
        lines.append(f"- sheet: {json.dumps(sheet['sheet'], ensure_ascii=False)}")
        lines.append(f"  layout: {sheet['layout']}")
        if sheet.get("reason"):
            lines.append(f"  # 待确认：{sheet['reason']}")
        lines.append("  columns:")
        for c in sheet["columns"]:
            entry = (
                f"  - {{col: {c['col']}, header: {json.dumps(c['header'], ensure_ascii=False)}, "
                f"field: {c['field'] or 'null'}}}"
            )
            note = [("待确认 " if not c["sure"] else "") + (c["label"] or "不入库")]
            if c["field"]:
                note.append(f"把握 {c['confidence']:.0%}")
            if c["evidence"]:
                note.append(c["evidence"])
            if c["samples"]:
                note.append("示例：" + "、".join(c["samples"]))
            if c["alternatives"]:
                note.append(
                    "也可能是：" + "、".join(f"{a['field']}（{a['label']}）" for a in c["alternatives"])
                )
            lines.append(f"{entry}   # {'；'.join(note)}")
    return "\n".join(lines) + "\n"


def read_mapfile(path: Path, schema: Schema) -> dict[str, dict[str, str | None]]:
    """Confirmed mappings by layout key (header as written → field or None, the form
    :func:`~hub.ingest.columns.apply_mapping` and :func:`~hub.ingest.columns.memory.remember` take).
    IngestError naming the place of every problem at once."""
    name = Path(path).name
    try:
        data = yamlio.safe_load(Path(path).read_text(encoding="utf-8"))
        parsed = _File.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise IngestError(
            f"无法读取列映射文件：{exc}", file=name, hint="用 hub columns <台账文件> 重新生成。"
        ) from None
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}：{e['msg']}" for e in exc.errors()]
        raise IngestError(
            "列映射文件格式不对：" + "；".join(problems),
            file=name,
            hint="用 hub columns <台账文件> 重新生成后再改。",
        ) from None
    by_name = {fold(n): n for n in schema.fields}
    by_name.update({fold(spec.label): n for n, spec in schema.fields.items()})
    out: dict[str, dict[str, str | None]] = {}
    problems = []
    for i, sheet in enumerate(parsed.sheets):
        mapping: dict[str, str | None] = {}
        used: dict[str, str] = {}
        for j, col in enumerate(sheet.columns):
            field = None
            if col.field not in (None, "", "null", "不入库"):
                field = by_name.get(fold(str(col.field)))
                if field is None:
                    problems.append(
                        f"sheets[{i}].columns[{j}]（{col.col}列“{col.header}”）：没有字段“{col.field}”"
                    )
                    continue
                if field in used:
                    problems.append(
                        f"sheets[{i}]（{sheet.sheet}）：{col.col}列和{used[field]}列都填了“{col.field}”，一个字段只能对应一列"
                    )
                used[field] = str(col.col)
            mapping[col.header] = field
        out[sheet.layout] = mapping
    if problems:
        raise IngestError(
            "列映射文件有误：" + "；".join(problems), file=name, hint="字段名见文件开头的“可用字段”。"
        )
    return out
