"""What a writer receives: the rows of every sheet as the department receives them, plus layout."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from hub.export.body import Body
from hub.export.spec import Sheet, Spec


@dataclass
class SheetData:
    sheet: Sheet
    title: str
    meta: str
    footer: list[str]
    body: Body  # the data rows, in the store (rendered set-based by the writers)
    total: dict[str, Any] | None  # column keys + _label

    def header_depth(self) -> int:
        return max(len(c.header) for c in self.sheet.columns)


@dataclass
class Document:
    spec: Spec
    sheets: list[SheetData]
    # the document's timestamp (xlsx core properties): the report date, so that the same data
    # written twice gives the same bytes and the same hash
    created: dt.datetime = dt.datetime(2000, 1, 1)

    def close(self) -> None:
        """Drop the sheets' data rows from the store (after writing)."""
        for sd in self.sheets:
            sd.body.close()


Writer = Callable[[Document, Path], None]
WRITERS: dict[str, Writer] = {}


def register_writer(fmt: str) -> Callable[[Writer], Writer]:
    """Register a writer for an output format (``xlsx``, ``csv``; a department format is one more)."""

    def deco(fn: Writer) -> Writer:
        WRITERS[fmt] = fn
        return fn

    return deco


def write_document(doc: Document, path: Path, fmt: str) -> tuple[int, int]:
    """``doc`` written to ``path`` by the registered writer for ``fmt``, readable by its owner only (a
    report holds ID numbers: 0600 whatever the umask); returns its :func:`data_cells`."""
    from hub.retention import make_private

    WRITERS[fmt](doc, path)
    make_private(path)
    return data_cells(doc)


def data_cells(doc: Document) -> tuple[int, int]:
    """(cells delivered, of which served from the canonical model), for the burden figure.

    Cells delivered: non-empty cells of data and 合计 rows, a household cell merged over its block
    counted once, plus the 合计 label. Served from the model: the cells of columns whose expression
    reads a model column (not 序号, not constants), and the 合计 sums of them. Counted in SQL."""
    cells = model = 0
    for sd in doc.sheets:
        cols = sd.sheet.columns
        reads = {c.key: _reads_model(c.expr) for c in cols}
        n, m = sd.body.cells(cols, reads)
        cells, model = cells + n, model + m
        if sd.total is not None:
            filled = [c for c in cols if sd.total.get(c.key) not in (None, "")]
            cells += len(filled) + 1  # + the 合计 label
            model += sum(1 for c in filled if reads[c.key])
    return cells, model


@lru_cache(maxsize=512)
def _reads_model(expr: str | None) -> bool:
    from sqlglot import exp, parse_one

    return expr is not None and parse_one(expr, read="duckdb").find(exp.Column) is not None
