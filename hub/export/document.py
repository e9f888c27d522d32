"""What a writer receives: the rows of every sheet as the department receives them, plus layout."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from hub.export.spec import Sheet, Spec


@dataclass
class SheetData:
    sheet: Sheet
    title: str
    meta: str
    footer: list[str]
    rows: list[dict[str, Any]]  # column keys + _first (first row of its block) + _block_no
    total: dict[str, Any] | None  # column keys + _label

    def header_depth(self) -> int:
        return max(len(c.header) for c in self.sheet.columns)


@dataclass
class Document:
    spec: Spec
    sheets: list[SheetData]


Writer = Callable[[Document, Path], None]
WRITERS: dict[str, Writer] = {}


def register_writer(fmt: str) -> Callable[[Writer], Writer]:
    """Register a writer for an output format (``xlsx``, ``csv``; a department format is one more)."""

    def deco(fn: Writer) -> Writer:
        WRITERS[fmt] = fn
        return fn

    return deco


def data_cells(doc: Document) -> tuple[int, int]:
    """(cells delivered, of which served from the canonical model), for the burden figure.

    Cells delivered: non-empty cells of data and 合计 rows, a household cell merged over its block
    counted once, plus the 合计 label. Served from the model: the cells of columns whose expression
    reads a model column (not 序号, not constants), and the 合计 sums of them. One pass per column."""
    cells = model = 0
    for sd in doc.sheets:
        firsts = [row.get("_first", True) for row in sd.rows]
        for c in sd.sheet.columns:
            values = [row.get(c.key) for row in sd.rows]
            if c.level == "household":
                values = [v for v, first in zip(values, firsts, strict=True) if first]
            n = len(values) - values.count(None) - values.count("")
            if sd.total is not None and sd.total.get(c.key) not in (None, ""):
                n += 1
            cells += n
            model += n if _reads_model(c.expr) else 0
        if sd.total is not None:
            cells += 1  # the 合计 label
    return cells, model


@lru_cache(maxsize=512)
def _reads_model(expr: str | None) -> bool:
    from sqlglot import exp, parse_one

    return expr is not None and parse_one(expr, read="duckdb").find(exp.Column) is not None
