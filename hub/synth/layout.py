"""A sheet as rows of cells plus merges and hidden rows, and the xlsx / CSV backends writing it."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from hub.synth.cells import Cell

Merge = tuple[int, int, int, int]  # 1-based inclusive (first_row, first_col, last_row, last_col)


@dataclass
class SheetLayout:
    name: str
    width: int
    rows: list[list[Cell]] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    hidden_rows: set[int] = field(default_factory=set)
    text_cols: set[int] = field(default_factory=set)  # 1-based columns formatted as text (@)

    def add(self, cells: Sequence[Cell] = ()) -> int:
        """Append a row (padded to the width); returns its 1-based row number."""
        row = list(cells) + [None] * (self.width - len(cells))
        self.rows.append(row[: self.width])
        return len(self.rows)

    def line(self, text: str, merge: bool = True) -> int:
        """A title, meta or footer line: text in column 1, optionally merged across the width."""
        r = self.add([text])
        if merge and self.width > 1:
            self.merges.append((r, 1, r, self.width))
        return r

    def header(self, paths: Sequence[tuple[str, ...]]) -> list[int]:
        """Multi-level header rows from each column's path (group, ..., leaf); returns the row numbers.

        A leaf shorter than the deepest path is merged down; equal adjacent group labels are merged
        across. An empty path ``("",)`` is an empty spacer column.
        """
        depth = max(len(p) for p in paths)
        first = len(self.rows) + 1
        for _ in range(depth):
            self.add()
        for c, path in enumerate(paths, start=1):
            for level, label in enumerate(path):
                self.rows[first - 1 + level][c - 1] = label or None
            leaf_level = len(path) - 1
            if leaf_level < depth - 1 and path[-1]:
                self.merges.append((first + leaf_level, c, first + depth - 1, c))
        for level in range(depth - 1):
            c = 0
            while c < len(paths):
                p = paths[c]
                end = c
                while (
                    end + 1 < len(paths)
                    and len(p) - 1 > level
                    and len(paths[end + 1]) - 1 > level
                    and paths[end + 1][: level + 1] == p[: level + 1]
                ):
                    end += 1
                if end > c:
                    self.merges.append((first + level, c + 1, first + level, end + 1))
                    for k in range(c + 1, end + 1):
                        self.rows[first - 1 + level][k] = None
                c = end + 1
        return list(range(first, first + depth))


def write_xlsx(path: Path, sheets: Sequence[SheetLayout]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for layout in sheets:
        ws = wb.create_sheet(layout.name)
        for r, row in enumerate(layout.rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is None:
                    continue
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, datetime | date):
                    cell.number_format = "yyyy-mm-dd"
                elif isinstance(value, float) and value > 1e15:
                    cell.number_format = "0"  # an ID that Excel turned into a number
                elif c in layout.text_cols and isinstance(value, str):
                    cell.number_format = "@"
        for r1, c1, r2, c2 in layout.merges:
            ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
            ws.cell(r1, c1).alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for r in sorted(layout.hidden_rows):
            ws.row_dimensions[r].hidden = True
        if layout.rows:
            ws.cell(1, 1).font = Font(name="宋体", size=16, bold=True)
        for c in range(1, layout.width + 1):
            ws.column_dimensions[get_column_letter(c)].width = 14
    wb.save(path)


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return f"{value.year}/{value.month}/{value.day}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


GBK_UNSAFE = str.maketrans({"\u200b": "", "\u00a0": " "})


def write_csv(path: Path, layout: SheetLayout, encoding: str = "utf-8", delimiter: str = ",") -> None:
    """One line per layout row (no cell holds a line break, so line numbers equal row numbers)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    for row in layout.rows:
        cells = [_text(v) for v in row]
        if encoding.lower().replace("-", "") in ("gbk", "gb2312", "cp936"):
            cells = [c.translate(GBK_UNSAFE) for c in cells]
        assert not any("\n" in c or "\r" in c for c in cells)
        writer.writerow(cells)
    path.write_bytes(buf.getvalue().encode(encoding))
