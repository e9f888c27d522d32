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


def data_cells(doc: Document, *, from_model_only: bool = False) -> int:
    """Data cells delivered (the burden figure): non-empty cells of data and 合计 rows; a household
    cell merged over its block counts once. With ``from_model_only``, only the cells served from the
    canonical model: those of columns whose expression reads a model column (not 序号, not constants),
    and the 合计 sums computed from them."""
    n = 0
    for sd in doc.sheets:
        columns = [c for c in sd.sheet.columns if not from_model_only or _reads_model(c.expr)]
        for row in sd.rows:
            n += sum(
                1
                for c in columns
                if row.get(c.key) not in (None, "") and (c.level == "person" or row.get("_first", True))
            )
        if sd.total is not None:
            keys = {c.key for c in columns}
            n += sum(1 for k, v in sd.total.items() if v not in (None, "") and k in keys)
            n += 0 if from_model_only else 1  # the 合计 label
    return n


@lru_cache(maxsize=512)
def _reads_model(expr: str | None) -> bool:
    from sqlglot import exp, parse_one

    return expr is not None and parse_one(expr, read="duckdb").find(exp.Column) is not None
