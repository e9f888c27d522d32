"""Ingest: read what township clerks already have and find the ledger inside it.

``stage_file(path, schema, divisions, township=None) -> StagedFile`` reads every sheet
(:func:`read_sheets`), finds its header block and data rows (:mod:`hub.ingest.layout`), its ledger
kind (:mod:`hub.ingest.kinds`) and the file's township (:mod:`hub.ingest.township`), fills merged
cells and ditto marks (:mod:`hub.ingest.fill`) and returns the data rows as written.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.errors import IngestError
from hub.ingest import limits
from hub.ingest.divisions import Division, Divisions, read_divisions_csv
from hub.ingest.readers import read_sheets, register_reader
from hub.ingest.types import (
    HEAD_AS_PERSON,
    IDENTITY,
    Column,
    HeldSheet,
    RawSheet,
    StagedFile,
    StagedSheet,
    field_sources,
    household_rows,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from hub.model import Schema

#: the hidden sheet of drop-down lists in the 一张表 (hub/serve/template.py): never a ledger
CODES_SHEET = "代码表"

__all__ = [
    "Division",
    "Divisions",
    "HeldSheet",
    "RawSheet",
    "StagedFile",
    "StagedSheet",
    "read_divisions_csv",
    "read_sheets",
    "register_reader",
    "stage_file",
]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stage_file(
    path: Path,
    schema: Schema,
    divisions: Divisions,
    township: str | None = None,
    mappings: Mapping[str, Mapping[str, str | None]] | None = None,
) -> StagedFile:
    """Read, lay out, place the columns of and classify every sheet of ``path``.

    ``mappings`` holds confirmed column mappings by header layout (:func:`hub.ingest.columns.layout_key`
    → normalised header → field or None): a sheet of a known layout takes them as they are. A sheet
    with a column placed below the confidence bar, or with data but no identity columns, is held
    (``StagedFile.held``) for the clerk's column step. IngestError when nothing can be used."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from hub.ingest.columns import HeaderMatcher, apply_mapping, layout_key
    from hub.ingest.fill import fill_ditto
    from hub.ingest.kinds import detect_kind, expected_headers
    from hub.ingest.layout import detect_layout
    from hub.ingest.township import resolve_file_township

    path = Path(path)
    raws = read_sheets(path)
    cells = sum(r.table.num_rows * (r.table.num_columns - 1) for r in raws)
    limits.check_file_cells(cells, len(raws), path.name)
    matcher = HeaderMatcher.from_schema(schema)
    skipped: list[tuple[str, str]] = []
    held: list[HeldSheet] = []
    found = []
    from hub.exchange.feedback import FLOWBACK_SHEET

    for raw in raws:
        if raw.name == FLOWBACK_SHEET:  # the 一张表's read-only 回流 sheet (hub/exchange/feedback.py)
            skipped.append((raw.name, "回流信息，仅供核对，不导入"))
            continue
        if raw.name == CODES_SHEET:  # the 一张表's hidden drop-down lists (hub/serve/template.py)
            skipped.append((raw.name, "一张表的下拉选项，不导入"))
            continue
        if raw.table.num_rows == 0 or all(
            raw.table[c].null_count == raw.table.num_rows for c in raw.table.column_names[1:]
        ):
            skipped.append((raw.name, "空工作表"))
            continue
        layout = detect_layout(raw, matcher, schema, divisions)
        if layout is None:
            skipped.append((raw.name, "无法识别表头"))
            continue
        key = layout_key(c.header for c in layout.columns)
        if mappings and key in mappings:
            apply_mapping(layout.columns, mappings[key])
        unsure = [c for c in layout.columns if not c.sure]
        for col in unsure:  # held: not used until the clerk confirms it; its cells stay in the raw rows
            col.field = None
        kind = detect_kind(_as_persons(layout.columns), schema)
        if kind is None and layout.data.num_rows > 0:
            reason = _held_reason(schema, layout.columns, [c for c in unsure if c.guess in IDENTITY])
            held.append(
                HeldSheet(raw.name, layout.data.num_rows, layout.columns, reason, key, layout.header_rows)
            )
            continue
        if kind is None:
            skipped.append((raw.name, "无法识别表头"))
            continue
        found.append((raw, layout, kind))
    if not found and not held:
        raise IngestError(
            "文件中没有可识别的台账表头"
            + (f"（{'；'.join(f'{s}：{r}' for s, r in skipped)}）" if skipped else ""),
            file=path.name,
            hint=f"表头中应包含这些列中的若干个：{expected_headers(schema)}。",
        )

    texts = [t for _, layout, _ in found for t in ([layout.title] if layout.title else []) + layout.preamble]
    villages: set[str] = set()
    for _, layout, _ in found:
        vcol = next((c for c in layout.columns if c.field == "village"), None)
        if vcol is not None:
            values = layout.data[f"c{vcol.col_index}"].unique().to_pylist()
            villages.update(v for v in values[:1000] if v)
    code = resolve_file_township(path.name, divisions, township, texts, villages) if found else None

    sheets: list[StagedSheet] = []
    for raw, layout, kind in found:
        assert code is not None
        fields: dict[str, Any] = {
            "_sheet": pa.array([raw.name] * layout.data.num_rows, pa.string()),
            "_row": layout.data["_row"],
        }
        members = schema.ledgers[kind].row_entity == "membership"
        sources, constants = field_sources(layout.columns)
        for name, cols in sources.items():
            parts = [
                fill_ditto(
                    layout.data[f"c{c.col_index}"],
                    blanks_too=members and schema.fields[str(c.field)].level == "household",
                )
                for c in cols
            ]
            fields[name] = parts[0] if len(parts) == 1 else pc.coalesce(*parts)
        for name, value in constants.items():
            fields[name] = pa.array([value] * layout.data.num_rows, pa.string())
        sheets.append(
            StagedSheet(
                sheet=raw.name,
                kind=kind,
                township_code=code,
                columns=layout.columns,
                data=pa.Table.from_arrays(list(fields.values()), names=list(fields)),
                title=layout.title,
                header_rows=layout.header_rows,
                epoch_1904=raw.epoch_1904,
            )
        )
    return StagedFile(
        path=str(path),
        sha256=sha256_of(path),
        sheets=sheets,
        skipped_sheets=skipped,
        held=held,
        notes=[n for raw in raws for n in raw.notes],
        cells=cells,
    )


def _as_persons(columns: list[Column]) -> list[Column]:
    """The columns as the kind is judged: a household sheet's head columns also stand for the person."""
    if not household_rows(columns):
        return columns
    extra = [
        dataclasses.replace(c, field=HEAD_AS_PERSON[c.field]) for c in columns if c.field in HEAD_AS_PERSON
    ]
    return [*columns, *extra]


def _held_reason(schema: Schema, columns: list[Column], unsure: list[Column]) -> str:
    if unsure:
        cols = "、".join(
            f"{c.letter()}列“{c.header or '（无表头）'}”像“{schema.fields[c.guess].label}”（把握 {c.confidence:.0%}）"
            for c in unsure
            if c.guess
        )
        return f"以下说明对象身份的列不能确定，请确认：{cols}"
    found = [c for c in columns if c.field in IDENTITY]
    if found:
        named = "、".join(f"{c.letter()}列“{schema.fields[c.field].label}”" for c in found if c.field)
        return (
            f"找到了{named}，但没有公民身份号码或统一社会信用代码列，无法确定每行是哪个人或哪家市场主体；"
            "请指出身份证号（或信用代码）所在的列，台账中没有的请补上后再上传"
        )
    return "没有找到能识别对象的列（姓名、公民身份号码、统一社会信用代码、名称等），请指出各列对应的字段"
