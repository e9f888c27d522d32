"""Data passed from ingest to validate. Pinned here so both stages build against one contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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


@dataclass
class Column:
    col_index: int  # 1-based, Excel's column number
    header: str  # as the clerk wrote it; multi-level headers joined with '/'
    field: str | None  # canonical field, None when ignored or unknown


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
class StagedFile:
    path: str
    sha256: str
    sheets: list[StagedSheet]
    skipped_sheets: list[tuple[str, str]] = field(default_factory=list)  # (sheet, reason): empty sheets etc.
