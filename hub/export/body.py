"""A sheet's data rows, kept in the store and rendered set-based.

The rows of a report can be 400,000 (the 65+ list of a county of a million) or a million (the 公安
exchange file). Fetching them into Python and writing them cell by cell cost most of an export, so a
:class:`Body` keeps them in a temporary DuckDB table and renders them with SQL:

* :meth:`Body.xml_chunks`: the sheet rows as SpreadsheetML (``<row><c …>``), spliced into the
  workbook XlsxWriter writes around them (title, headers, 合计, footer, styles, print setup;
  see :mod:`hub.export.write_xlsx`);
* :meth:`Body.csv_chunks`: CSV lines, quoted as Python's ``csv`` module quotes (minimal);
* :meth:`Body.cells`: the burden figure's cell counts;
* :meth:`Body.dicts`: the rows as dicts, for previews on the web pages and for tests.

The table is ``_row`` (1-based position in the sheet), ``_span`` (rows of the row's block), the
column keys, ``_first`` (first row of its block) and the pipeline's own bookkeeping columns.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from hub.export.spec import Column
from hub.safecell import csv_text_sql
from hub.sheetxml import column_letter, empty_cell, number_cell, row_sql, string_cell
from hub.sqltext import sql_literal

if TYPE_CHECKING:
    from hub.store.db import Database

CHUNK_ROWS = 2000  # rows per rendered chunk: a few MB of text, few Python objects

_NUMERIC = frozenset(
    [
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
        "FLOAT",
        "DOUBLE",
        "DECIMAL",
    ]
)


class Body:
    """The data rows of one sheet, materialised once from the compiled data query."""

    def __init__(self, db: Database, sql: str, params: dict[str, Any] | None = None):
        self.db = db
        self.table = f"_hub_body_{uuid.uuid4().hex[:12]}"
        db.execute(
            f"CREATE TEMP TABLE {self.table} AS SELECT "
            "row_number() OVER (ORDER BY _block_no, _pos) AS _row, "
            "count(*) OVER (PARTITION BY _block_no) AS _span, * "
            f"FROM ({sql}) AS d",
            params,
        )
        self.types = {name: kind.upper() for name, kind in db.columns(self.table)}
        self.n = int(db.scalar(f"SELECT count(*) FROM {self.table}") or 0)

    def close(self) -> None:
        self.db.execute(f"DROP TABLE IF EXISTS {self.table}")

    # -- plain access --------------------------------------------------------------------------
    def dicts(self) -> list[dict[str, Any]]:
        return self.db.dicts(f"SELECT * EXCLUDE (_row, _span) FROM {self.table} ORDER BY _row")

    def blocks(self) -> list[tuple[int, int]]:
        """(row, span) of every block of more than one row: the household cells merged over it."""
        return [
            (int(r), int(s))
            for r, s in self.db.rows(
                f"SELECT _row, _span FROM {self.table} WHERE _first AND _span > 1 ORDER BY _row"
            )
        ]

    def cells(self, columns: list[Column], reads_model: dict[str, bool]) -> tuple[int, int]:
        """(non-empty cells, of which from columns that read the model); a household cell of a
        merged block counts once."""
        if not columns or not self.n:
            return 0, 0
        parts = []
        for c in columns:
            cond = f"{c.key} IS NOT NULL AND CAST({c.key} AS VARCHAR) <> ''"
            if c.level == "household":
                cond += " AND _first"
            parts.append(f"count(*) FILTER (WHERE {cond})")
        counts = self.db.rows(f"SELECT {', '.join(parts)} FROM {self.table}")[0]
        cells = sum(int(n) for n in counts)
        model = sum(int(n) for n, c in zip(counts, columns, strict=True) if reads_model[c.key])
        return cells, model

    # -- rendering -----------------------------------------------------------------------------
    def _chunks(self, line: str, source: str | None = None) -> Iterator[str]:
        query = (
            f"SELECT (_row - 1) // {CHUNK_ROWS} AS k, string_agg({line}, '' ORDER BY _row) "
            f"FROM {source or self.table} GROUP BY k ORDER BY k"
        )
        for _, text in self.db.rows(query):
            yield text

    def _text(self, key: str) -> str:
        """SQL for the value as the text a cell shows (NULL stays NULL)."""
        return f"CAST({key} AS VARCHAR)" if self.types.get(key) != "VARCHAR" else key

    def _base_type(self, key: str) -> str:
        return self.types.get(key, "VARCHAR").split("(")[0]

    def flagged_keys(self, columns: list[Column]) -> list[str]:
        """The column keys whose cells carry a "value flagged" column (:mod:`hub.export.flags`)."""
        return [c.key for c in columns if f"_flag_{c.key}" in self.types]

    def flagged(
        self, keys: list[str], once: set[str] | None = None, limit: int = 5000
    ) -> list[tuple[int, str]]:
        """(row, key) of the flagged cells, in row order (at most ``limit``); the keys in ``once``
        (household cells merged over their block) on the block's first row only."""
        if not keys or not self.n:
            return []
        once = once or set()
        parts = " UNION ALL ".join(
            f"SELECT _row, {sql_literal(k)} AS k, {i} AS i FROM {self.table} WHERE _flag_{k}"
            + (" AND _first" if k in once else "")
            for i, k in enumerate(keys)
        )
        return [(int(r), str(k)) for r, k, _ in self.db.rows(f"{parts} ORDER BY 1, 3 LIMIT {int(limit)}")]

    def xml_chunks(
        self,
        columns: list[Column],
        styles: list[int],
        first_row: int,
        merge_blocks: bool,
        flag_styles: dict[str, int] | None = None,
    ) -> Iterator[str]:
        """``<row>`` elements for sheet rows ``first_row``… (1-based), one per data row, every cell
        styled (empty cells too: the borders). A value is a number when its column's format is a
        number and it is one, a date serial when the format is a date and it is one, else text. With
        ``merge_blocks`` the household cells of a block's later rows are empty (the block's first
        row carries the value; the writer merges them). A cell whose ``_flag_<key>`` is true takes
        the style ``flag_styles[key]`` (a value the hub flagged, :mod:`hub.export.flags`)."""
        r = f"(_row + {first_row - 1})"
        cells = []
        flag_styles = flag_styles or {}
        for i, (c, xf) in enumerate(zip(columns, styles, strict=True)):
            letter, kind, typ = column_letter(i), c.format, self._base_type(c.key)
            style = (
                f"(CASE WHEN _flag_{c.key} THEN {flag_styles[c.key]} ELSE {xf} END)"
                if c.key in flag_styles
                else xf
            )
            if kind in ("date", "datetime") and typ == "DATE":
                number: str | None = f"CAST({c.key} - DATE '1899-12-30' AS VARCHAR)"
            elif kind in ("date", "datetime") and typ.startswith("TIMESTAMP"):
                number = f"CAST(epoch(CAST({c.key} AS TIMESTAMP)) / 86400.0 + 25569 AS VARCHAR)"
            elif kind in ("integer", "money") and typ in _NUMERIC:
                number = f"CAST({c.key} AS VARCHAR)"
            else:
                number = None
            if number is not None:
                cell, empty = number_cell(letter, r, str(style), number), f"{c.key} IS NULL"
            else:
                text = self._text(c.key)
                cell, empty = string_cell(letter, r, str(style), text), f"{c.key} IS NULL OR {text} = ''"
            if merge_blocks and c.level == "household":
                empty = f"({empty}) OR NOT _first"
            cells.append(f"CASE WHEN {empty} THEN {empty_cell(letter, r, str(style))} ELSE {cell} END")
        return self._chunks(row_sql(r, cells))

    def csv_chunks(self, columns: list[Column]) -> Iterator[str]:
        """CSV lines (``\\r\\n`` after each), fields quoted only when they hold a comma, a quote or a
        line break (Python's ``csv.QUOTE_MINIMAL``); dates in the column's ``pattern`` or ISO,
        decimals with two places, missing values empty. Text that a spreadsheet would take for a
        formula (``=``, ``+``, ``-``, ``@``, tab, CR first) gets a leading ``'``
        (:func:`hub.safecell.csv_text_sql`); numbers of a numeric column are not text and stay as
        they are."""
        texts, fields = [], []
        for i, c in enumerate(columns):
            typ = self._base_type(c.key)
            if typ == "DATE" or typ.startswith("TIMESTAMP"):
                iso = "%Y-%m-%d" if typ == "DATE" else "%Y-%m-%dT%H:%M:%S"  # as date/datetime.isoformat()
                text = f"strftime({c.key}, {sql_literal(c.pattern or iso)})"
            elif typ == "DECIMAL":
                text = f"printf('%.2f', {c.key})"
            elif typ in _NUMERIC:
                text = self._text(c.key)
            else:
                text = csv_text_sql(self._text(c.key))
            texts.append(f"{text} AS _t{i}")  # the field's text, computed once per row (NULL: missing)
            fields.append(
                f"CASE WHEN _t{i} IS NULL THEN '' "
                f"WHEN regexp_matches(_t{i}, '[,\"\\r\\n]') THEN '\"' || replace(_t{i}, '\"', '\"\"') || '\"' "
                f"ELSE _t{i} END"
            )
        line = " || ',' || ".join(fields) + " || chr(13) || chr(10)"
        return self._chunks(line, f"(SELECT _row, {', '.join(texts)} FROM {self.table})")

    def row_of(self, key: str, value: str) -> int | None:
        """The first row (1-based) whose column ``key`` shows ``value`` (for error messages)."""
        found = self.db.scalar(f"SELECT min(_row) FROM {self.table} WHERE {self._text(key)} = ?", [value])
        return None if found is None else int(found)
