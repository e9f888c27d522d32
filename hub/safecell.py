"""No formula leaves the hub: text that a spreadsheet would evaluate is written so that none does.

A text value starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel, WPS and LibreOffice when it arrives through a CSV file, and a cell written as a formula is one
in a workbook. Such text comes from clerks' ledgers (a name, an address, a remark) and from web users
(a stated purpose), so every writer goes through the helpers here (OWASP "CSV Injection"):

* CSV (department exchange files, the access log): a text field starting with one of
  :data:`FORMULA_TRIGGERS` gets a leading ``'`` (``+8613800138000`` → ``'+8613800138000``), then is
  quoted as usual when it holds a comma, a quote or a line break. Numbers written as numbers (a
  numeric column) and dates are not text and are not touched: ``-2`` in an integer column stays ``-2``.
  :func:`csv_text` for Python-written lines, :func:`csv_text_sql` for lines rendered in DuckDB.
* xlsx: the text is a string cell (inline string), never a formula; the value is unchanged.
  :func:`set_text` for openpyxl, whose ``cell.value = "=…"`` would make a formula (and ``"#N/A"`` an
  error cell): it stores a string and, when the text starts with a trigger, sets the cell's
  ``quotePrefix`` so that editing the cell in Excel does not turn it into a formula either. XlsxWriter
  writes strings as strings (``strings_to_formulas=False``) and the rows rendered in SQL
  (:mod:`hub.sheetxml`) are inline strings in text-formatted (``@``) columns.
"""

from __future__ import annotations

from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def formula_like(text: str) -> bool:
    """Whether a spreadsheet would read ``text``, as the whole content of a cell, as a formula."""
    return text.startswith(FORMULA_TRIGGERS)


def csv_text(value: Any) -> Any:
    """A CSV field's value: text starting with a trigger gets a leading ``'``; anything that is not
    text (numbers, None) is returned as it is."""
    return QUOTE + value if isinstance(value, str) and formula_like(value) else value


def csv_text_sql(expr: str) -> str:
    """SQL (DuckDB) for :func:`csv_text` of the text expression ``expr`` (NULL stays NULL)."""
    triggers = ", ".join(f"chr({ord(c)})" for c in FORMULA_TRIGGERS)
    return f"(CASE WHEN left({expr}, 1) IN ({triggers}) THEN '{QUOTE * 2}' || {expr} ELSE {expr} END)"


def clean_text(value: str) -> str:
    """Text without the control characters XML (and so openpyxl) does not allow."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value)


def set_text(cell: Any, value: Any) -> None:
    """Put ``value`` into an openpyxl cell: text as a string cell, never a formula or an error value
    (with ``quotePrefix`` when it starts with a trigger); anything else as openpyxl stores it."""
    if not isinstance(value, str):
        cell.value = value
        return
    cell.value = clean_text(value)
    cell.data_type = "s"
    if formula_like(cell.value):
        cell.quotePrefix = True
