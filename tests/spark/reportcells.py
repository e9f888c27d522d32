"""Report files compared cell by cell, as a user would check them: every cell of every sheet of an
xlsx (value, comment, fill colour), read back with openpyxl, and a CSV as GBK text lines. Used by
the Spark parity test and by ``benchmarks/bench_spark.py --compare`` (one comparison, not two)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPORT_SUFFIXES = (".xlsx", ".csv")


def workbook_cells(path: Path) -> dict[str, Any]:
    """Sheet title → rows of (value, comment text, fill colour) per cell."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    out: dict[str, Any] = {}
    for ws in wb.worksheets:
        out[ws.title] = [
            [(c.value, c.comment.text if c.comment else None, c.fill.fgColor.rgb) for c in row]
            for row in ws.iter_rows()
        ]
    return out


def file_cells(path: Path) -> Any:
    """What a report file says: an xlsx's cells, a CSV's GBK lines."""
    if path.suffix == ".xlsx":
        return workbook_cells(path)
    return path.read_bytes().decode("gbk").splitlines()


def report_names(out: Path) -> list[str]:
    """The report files under ``out`` (relative, sorted)."""
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.suffix in REPORT_SUFFIXES)


def files(out: Path) -> dict[str, Any]:
    """Every report file under ``out`` → its cells (:func:`file_cells`)."""
    return {name: file_cells(out / name) for name in report_names(out)}


def without_times(found: dict[str, Any]) -> dict[str, Any]:
    """``found`` with a CSV line's trailing 14-digit timestamp (GA-SYRK's GXSJ) blanked."""
    out = dict(found)
    for name, lines in found.items():
        if name.endswith(".csv"):
            out[name] = blank_times(lines)
    return out


def blank_times(lines: list[str]) -> list[str]:
    return [re.sub(r",\d{14}$", ",", line) for line in lines]


def differences(a: Path, b: Path, *, ignore_times: bool = False) -> Iterator[str]:
    """Where the report files under ``a`` and ``b`` differ, one line per file (the first differing
    cell or line); nothing when every cell of every file is equal. One file in memory at a time.
    ``ignore_times``: a CSV line's trailing timestamp (when that run merged) is not compared."""
    names_a, names_b = report_names(a), report_names(b)
    for name in sorted(set(names_a) ^ set(names_b)):
        yield f"{name}: only under {a if name in names_a else b}"
    for name in sorted(set(names_a) & set(names_b)):
        left, right = file_cells(a / name), file_cells(b / name)
        if ignore_times and name.endswith(".csv"):
            left, right = blank_times(left), blank_times(right)
        if left != right:
            yield f"{name}: {_first_difference(left, right)}"


def _first_difference(left: Any, right: Any) -> str:
    if isinstance(left, list):  # CSV lines
        for i, (x, y) in enumerate(zip(left, right, strict=False), start=1):
            if x != y:
                return f"line {i}: {x!r} ≠ {y!r}"
        return f"{len(left)} lines ≠ {len(right)} lines"
    if left.keys() != right.keys():
        return f"sheets {list(left)} ≠ {list(right)}"
    for sheet, rows in left.items():
        other = right[sheet]
        for r, (x, y) in enumerate(zip(rows, other, strict=False), start=1):
            for c, (cx, cy) in enumerate(zip(x, y, strict=False), start=1):
                if cx != cy:
                    return f"sheet {sheet} row {r} column {c}: {cx!r} ≠ {cy!r}"
            if len(x) != len(y):
                return f"sheet {sheet} row {r}: {len(x)} cells ≠ {len(y)}"
        if len(rows) != len(other):
            return f"sheet {sheet}: {len(rows)} rows ≠ {len(other)}"
    return "different"  # pragma: no cover (unequal dicts differ somewhere above)
