"""Turning cell values into text, the way a clerk sees them in Excel.

Rules (the validate stage relies on them):

* ``str`` cells are kept as written; an empty string becomes ``None``.
* ``int`` → ``"123"``; a ``float`` that is integral and below 1e15 → ``"123"`` (no spurious ``.0``).
* A ``float`` of magnitude >= 1e15 cannot hold an 18-digit ID exactly (a double has 15-17 significant
  digits), so it is rendered the way Excel's *General* format displays it: six significant digits in
  scientific notation, trailing zeros dropped, e.g. ``4.10102199003071e17`` → ``"4.10102E+17"``. The
  validate stage flags scientific notation or a decimal point in an ID column as ``id-precision-lost``.
* Other floats → up to 15 significant digits (``1.5``, ``0.1``).
* ``datetime``/``date`` → ``"YYYY-MM-DD"`` (the time of day is dropped); ``time``/``timedelta`` →
  ``"HH:MM:SS"``.
* ``bool`` → ``"是"`` / ``"否"``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

BIG_FLOAT = 1e15


def excel_general(value: float) -> str:
    """Scientific notation as Excel's General format shows a large number: ``4.10102E+17``."""
    mantissa, exponent = f"{value:.5E}".split("E")
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    sign = exponent[0]
    digits = exponent[1:].lstrip("0").rjust(2, "0")
    return f"{mantissa}E{sign}{digits}"


def render(value: Any) -> str | None:
    """One cell as text (see the module docstring); ``None`` for an empty cell."""
    if value is None:
        return None
    t = type(value)
    if t is str:
        return value or None
    if t is bool:
        return "是" if value else "否"
    if t is int:
        return str(value)
    if t is float:
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        if abs(value) >= BIG_FLOAT:
            return excel_general(value)
        if value.is_integer():
            return str(int(value))
        return f"{value:.15g}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, dt.timedelta):
        total = int(value.total_seconds())
        return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"
    return str(value) or None


def text_column(values: Sequence[Any]) -> pa.Array:
    """A column of cells → an Arrow string array, empty cells null. Pure-text columns take a fast path."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if all(type(v) is str or v is None for v in values):
        arr = pa.array(values, type=pa.string())
        return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    return pa.array(map(render, values), type=pa.string(), size=len(values))


def rows_to_table(rows: Sequence[Sequence[Any]], first_row: int = 1) -> pa.Table:
    """Row-major cells → the RawSheet table: ``_row`` (``first_row``, ``first_row + 1``...) and ``c1..cN``."""
    import itertools

    import pyarrow as pa

    columns = list(itertools.zip_longest(*rows, fillvalue=None)) if rows else []
    arrays = [pa.array(range(first_row, first_row + len(rows)), type=pa.int64())]
    arrays += [text_column(col) for col in columns]
    names = ["_row"] + [f"c{i}" for i in range(1, len(columns) + 1)]
    return pa.Table.from_arrays(arrays, names=names)
