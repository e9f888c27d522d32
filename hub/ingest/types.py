"""Data passed from ingest to validate. Pinned here so both stages build against one contract."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import date

    import pyarrow as pa


@dataclass
class RawSheet:
    """A sheet (or a CSV file) as read, before any interpretation.

    ``table`` has an int column ``_row`` (the row number Excel, or a text editor for CSV, shows) and
    text columns ``c1..cN`` (N = the sheet's width; cells as text, None when empty; numbers rendered
    without a spurious ``.0``, large floats as Excel would show them, e.g. ``4.10102E+17``).
    ``merged`` holds merged ranges as 1-based inclusive ``(first_row, first_col, last_row, last_col)``.
    """

    name: str
    table: pa.Table
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    hidden_rows: set[int] = field(default_factory=set)
    epoch_1904: bool = False
    hidden_cols: set[int] = field(default_factory=set)  # 1-based column numbers hidden in Excel
    # what the reader noticed without refusing the file (a far stray cell left out, a CSV line with an
    # unbalanced quote): finding-shaped dicts (sheet, row, column, value, code, severity, message)
    notes: list[dict[str, Any]] = field(default_factory=list)


SURE = 0.8  # a column placed with at least this confidence is not asked about

# Fields that say who or what a row is. A sheet held for want of them names them first, and they are
# never *twins*: two columns may hold one other field (户籍地址 and 居住地址, 固定电话 and 移动电话,
# 家庭人口 and 家庭人口数), merged left to right, first filled cell wins; two name or ID columns are
# two roles or a mistake, never one field.
IDENTITY = frozenset(
    {"id_number", "name", "head_name", "head_id_number", "operator_name", "uscc", "reg_no", "business_name"}
)


def twins_allowed(field_name: str) -> bool:
    """May two columns of one sheet hold ``field_name`` (merged, first filled cell wins)? Not an
    identity field: two such columns are two roles or a mistake (a clerk who gives 经营者 to the 商号
    column too is asked again), even where a form names one person twice (经营者姓名, 附表1 姓名)."""
    return field_name not in IDENTITY


# A sheet whose only identity columns are the head's (户主姓名, 户主身份证号: one row per family, as
# 特困家庭 and 户籍 household sheets are kept) describes each family through its head: the row is the
# head's own row (姓名 and 公民身份号码 from the head's columns, 与户主关系 = 户主 when absent).
HEAD_AS_PERSON = {"head_name": "name", "head_id_number": "id_number"}


def household_rows(columns: list[Column]) -> bool:
    fields = {c.field for c in columns if c.field}
    return not fields & {"name", "id_number"} and bool(fields & HEAD_AS_PERSON.keys())


def field_sources(columns: list[Column]) -> tuple[dict[str, list[Column]], dict[str, str]]:
    """How a sheet's staged table is made from its placed columns, at ingest and when a stored
    submission is validated again: each field with its columns left to right (twins: the first filled
    cell wins), and constants for fields no column holds. A household sheet (:func:`household_rows`)
    takes 姓名 and 公民身份号码 from the head's columns, and 与户主关系 = 户主 unless a column says."""
    sources: dict[str, list[Column]] = {}
    for c in columns:
        if c.field:
            sources.setdefault(c.field, []).append(c)
    constants: dict[str, str] = {}
    if household_rows(columns):
        for head, person in HEAD_AS_PERSON.items():
            if head in sources:
                sources[person] = sources[head]
        if "relation" not in sources:
            constants["relation"] = "户主"
    return sources, constants


@dataclass
class Column:
    """A column of a sheet and the canonical field it was placed on (:mod:`hub.ingest.columns`)."""

    col_index: int  # 1-based, Excel's column number
    header: str  # as the clerk wrote it; multi-level headers joined with '/'
    field: str | None  # canonical field, None when ignored, unknown or held
    confidence: float = 1.0  # of ``guess``
    guess: str | None = None  # the field the hub thinks it is (== field unless the column is held)
    source: str = "header"  # header | values | header+values | ignored | remembered | confirmed | none
    evidence: str = ""  # why, in Chinese
    alternatives: list[tuple[str, float]] = dataclasses.field(default_factory=list)
    samples: list[str] = dataclasses.field(default_factory=list)  # a few values, for the column step
    filled: float = 0.0  # share of data rows with a value

    @property
    def sure(self) -> bool:
        return self.guess is None or self.confidence >= SURE

    @property
    def held(self) -> bool:
        """Unsure, so not used until the clerk confirms it (its cells are kept in the raw rows)."""
        return self.guess is not None and self.field is None and not self.sure

    def letter(self) -> str:
        from hub.sheetxml import column_letter

        return column_letter(self.col_index - 1)


@dataclass
class StagedSheet:
    """One sheet's data rows, ready for validation.

    ``data`` has ``_sheet`` (text), ``_row`` (int) and one text column per mapped canonical field, with
    the cells as the clerk wrote them (merged household cells and ditto marks already filled from the
    row above). Only data rows are in it: titles, meta lines, headers, 栏次, 合计/小计/其中 rows, blank
    rows and footers are not.
    """

    sheet: str
    kind: str  # a key of schemas/ledgers.yaml
    township_code: str  # 9 digits
    columns: list[Column]
    data: pa.Table
    title: str | None = None
    header_rows: list[int] = field(default_factory=list)
    epoch_1904: bool = False

    def header_of(self, field_name: str) -> str | None:
        return next((c.header for c in self.columns if c.field == field_name), None)


@dataclass
class HeldSheet:
    """A sheet with data rows that the hub could not place with confidence: held for the clerk's
    column step, never dropped. ``layout`` keys its header layout (:func:`hub.ingest.columns.layout_key`)."""

    sheet: str
    rows: int
    columns: list[Column]
    reason: str
    layout: str
    header_rows: list[int] = field(default_factory=list)


@dataclass
class StagedFile:
    path: str
    sha256: str
    sheets: list[StagedSheet]
    skipped_sheets: list[tuple[str, str]] = field(default_factory=list)  # (sheet, reason): empty sheets etc.
    held: list[HeldSheet] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)  # the readers' (RawSheet.notes)
    cells: int = 0  # cells read, every sheet (rows × columns): what the stages after the read hold
    # the sheets' validation (hub.validate.Validated, one per sheet) done before the store's unit
    # (Hub.stage), and the day it was done for: used when the file is stored on that day
    validated: list[Any] | None = None
    validated_on: date | None = None

    @property
    def held_rows(self) -> int:
        return sum(h.rows for h in self.held)
