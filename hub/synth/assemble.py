"""Shared assembly of data rows into a sheet: sections per village, 序号, 小计/合计, duplicates."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from hub.synth.cells import Cell
from hub.synth.layout import SheetLayout
from hub.synth.truth import Expected, Truth, TruthRow, expected

SERIAL = "_serial"
SPACER = "_spacer"


@dataclass
class DataRow:
    values: dict[str, Cell]  # column id (a canonical field, SERIAL, "_age", SPACER) → cell
    key: str
    name: Cell
    codes: list[Expected] = field(default_factory=list)
    village: str = ""
    household: str = ""
    note: str | None = None
    dup_of: DataRow | None = None


def add_duplicates(rows: list[DataRow], count: int, rng: random.Random, protected: set[str]) -> list[DataRow]:
    """Paste ``count`` clean rows a second time, right below the original (a 'row pasted twice')."""
    clean = [i for i, r in enumerate(rows) if not r.codes and r.key not in protected]
    picks = set(rng.sample(clean, min(count, len(clean))))
    out: list[DataRow] = []
    for i, r in enumerate(rows):
        out.append(r)
        if i in picks:
            out.append(
                replace(
                    r, values=dict(r.values), codes=[expected("duplicate-row", "")], dup_of=r, note="重复粘贴"
                )
            )
    return out


def emit_section(
    layout: SheetLayout,
    columns: Sequence[str],
    rows: Sequence[DataRow],
    truth: Truth,
    serial_style: str,
    start_overall: int = 0,
) -> list[int]:
    """Write data rows; returns their row numbers. 序号 by ``serial_style`` (plain / restart / household);
    a duplicate keeps the 序号 of the row it copies."""
    numbers: list[int] = []
    hh_no, member, last_hh = 0, 0, None
    serial_of: dict[int, Cell] = {}
    count = 0
    for r in rows:
        s: Cell
        if r.dup_of is not None:
            s = serial_of[id(r.dup_of)]
        else:
            count += 1
            if r.household != last_hh:
                hh_no, member, last_hh = hh_no + 1, 0, r.household
            member += 1
            if serial_style == "household":
                s = f"{hh_no}-{member}"
            else:
                s = count if serial_style == "restart" else start_overall + count
            serial_of[id(r)] = s
        cells = [s if c == SERIAL else r.values.get(c) for c in columns]
        n = layout.add(cells)
        numbers.append(n)
        truth.rows.append(TruthRow(layout.name, n, r.key, _as_name(r.name), list(r.codes), note=r.note))
    return numbers


def _as_name(value: Cell) -> str | None:
    return None if value is None else str(value)


def subtotal(
    layout: SheetLayout,
    label: str,
    columns: Sequence[str],
    count: int,
    sums: dict[str, Callable[[], Cell]] | None = None,
) -> int:
    cells: list[Cell] = [None] * len(columns)
    cells[0] = label
    cells[1] = f"{count}人" if len(columns) > 1 and columns[1] != SPACER else None
    for col, fn in (sums or {}).items():
        cells[columns.index(col)] = fn()
    return layout.add(cells)


def group_by(rows: Sequence[DataRow], key: Callable[[DataRow], str]) -> list[tuple[str, list[DataRow]]]:
    out: dict[str, list[DataRow]] = {}
    for r in rows:
        out.setdefault(key(r), []).append(r)
    return list(out.items())
