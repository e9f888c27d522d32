"""Seeded random layouts: every data row comes out with its Excel row number, nothing else does."""

from __future__ import annotations

import random
from pathlib import Path

import openpyxl
import pytest

from hub.ingest import Divisions, stage_file
from hub.model import Schema

HEADERS = [
    ("姓名", "name"),
    ("公民身份号码", "id_number"),
    ("性别", "sex"),
    ("民族", "ethnicity"),
    ("现住址", "address"),
]
NON_DATA = ["合计", "小计", "城关村小计", "其中：女", "总计"]


def build(rng: random.Random, path: Path) -> list[int]:
    wb = openpyxl.Workbook()
    ws = wb.active
    row = 1 + rng.randint(0, 2)
    col0 = 1 + rng.randint(0, 2)
    with_seq = rng.random() < 0.5
    headers = HEADERS[:] if rng.random() < 0.5 else [HEADERS[1], HEADERS[0], *HEADERS[2:]]
    width = len(headers) + with_seq
    if rng.random() < 0.7:
        ws.cell(row, col0, "城关镇实有人口信息采集表")
        ws.merge_cells(start_row=row, start_column=col0, end_row=row, end_column=col0 + width - 1)
        row += 1
    for _ in range(rng.randint(0, 2)):
        ws.cell(row, col0, rng.choice(["填报单位：城关镇人民政府", "填报日期：2026-01-01", "单位：人"]))
        row += 1
    two_level = rng.random() < 0.5
    c = col0
    if with_seq:
        ws.cell(row, c, "序号")
        if two_level:
            ws.merge_cells(start_row=row, start_column=c, end_row=row + 1, end_column=c)
        c += 1
    if two_level:
        ws.cell(row, c, "基本信息")
        ws.merge_cells(start_row=row, start_column=c, end_row=row, end_column=c + len(headers) - 1)
        row += 1
    for i, (text, _) in enumerate(headers):
        ws.cell(row, c + i, text)
    row += 1
    if rng.random() < 0.5:
        for i in range(width):
            ws.cell(row, col0 + i, ["甲", "乙", "1", "2", "3", "4", "5"][i])
        row += 1
    expected: list[int] = []
    for n in range(rng.randint(1, 30)):
        r = rng.random()
        if r < 0.1:
            row += 1  # blank
            continue
        if r < 0.2:
            ws.cell(row, col0, rng.choice(NON_DATA))
            ws.cell(row, col0 + width - 1, "99")
        else:
            if r < 0.27:  # a hidden data row is still data: nothing submitted is dropped silently
                ws.row_dimensions[row].hidden = True
            values = {
                "name": f"人{n}",
                "id_number": f"33072719900101{n:04d}",
                "sex": "男",
                "ethnicity": "汉族",
                "address": "城关村",
            }
            c = col0
            if with_seq:
                ws.cell(row, c, n + 1)
                c += 1
            for i, (_, f) in enumerate(headers):
                if f in ("name", "id_number") or rng.random() < 0.8:
                    ws.cell(row, c + i, values[f])
            expected.append(row)
        row += 1
    if rng.random() < 0.6:
        row += rng.randint(0, 2)
        ws.cell(row, col0, rng.choice(["填表说明：身份证号请填18位", "制表人：张三", "备注：无", "（盖章）"]))
        ws.cell(row + 1, col0 + 1, "人999")
        ws.cell(row + 1, col0 + 2, "330727199001019999")
    wb.save(path)
    return expected


@pytest.mark.parametrize("seed", range(40))
def test_random_layouts(tmp: Path, schema: Schema, divisions: Divisions, seed: int) -> None:
    rng = random.Random(seed)
    path = tmp / f"r{seed}.xlsx"
    expected = build(rng, path)
    (sheet,) = stage_file(path, schema, divisions, township="城关镇").sheets
    assert sheet.kind == "population"
    assert sheet.data["_row"].to_pylist() == expected
    names = sheet.data["name"].to_pylist()
    assert all(n and n.startswith("人") and n != "人999" for n in names)
