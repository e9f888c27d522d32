"""Small population ledgers of 青山镇 for the changes feed: a first roster, a newcomer, a changed phone,
a death; written as the CSV files a clerk uploads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hub.standards.ids import id_check_char

TOWN = "331099101"
REF = "2026-11-30"
HEAD = "姓名,公民身份号码,性别,出生日期,村（社区）,联系电话,人员状态,死亡日期"


def pid(birth: str, seq: int) -> str:
    first = f"331099{birth.replace('-', '')}{seq:03d}"
    return first + id_check_char(first)


PEOPLE = {
    "王建国": (pid("1950-03-01", 11), "男", "1950-03-01", "上塘村", "13800000001"),
    "李秀英": (pid("1948-07-15", 22), "女", "1948-07-15", "下溪村", "13800000002"),
    "张德明": (pid("1955-11-20", 33), "男", "1955-11-20", "石门村", "13800000003"),
    "陈小红": (pid("1990-05-05", 44), "女", "1990-05-05", "竹坞村", "13800000004"),
    "赵桂兰": (pid("1952-02-02", 62), "女", "1952-02-02", "上塘村", "13800000005"),
}


def _line(
    name: str, phone: str | None = None, status: str = "正常", died: str = "", village: str = ""
) -> str:
    id_number, sex, birth, own_village, own_phone = PEOPLE[name]
    return f"{name},{id_number},{sex},{birth},{village or own_village},{phone or own_phone},{status},{died}"


def ledgers(folder: Path) -> dict[str, Path]:
    """first: four residents; newcomer: one more; phone: 王建国's new phone; death: 李秀英 died;
    moved: 张德明 on 城关街道's roster."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "first": [_line(n) for n in ("王建国", "李秀英", "张德明", "陈小红")],
        "newcomer": [_line("赵桂兰")],
        "phone": [_line("王建国", phone="13900000009")],
        "death": [_line("李秀英", status="死亡", died="2026-10-01")],
        "moved": [_line("张德明", village="东郊村")],  # 城关街道's ledger (submitted by 城关街道)
    }
    out = {}
    for key, lines in files.items():
        path = folder / f"青山镇_人口台账_{key}.csv"
        path.write_text("\n".join([HEAD, *lines]) + "\n", encoding="utf-8")
        out[key] = path
    return out


State = dict[tuple[str, str], list[dict[str, Any]]]


def apply(state: State, feed: dict[str, Any]) -> State:
    """What a department does with a changes pull: new records in, changed records replaced,
    removed records out. Fails on an item that does not fit what it holds."""
    out = dict(state)
    for item in feed["added"]:
        key = (item["sheet"], item["key"])
        assert key not in out, f"added twice: {key}"
        out[key] = item["rows"]
    for item in feed["changed"]:
        key = (item["sheet"], item["key"])
        assert key in out, f"changed but never added: {key}"
        assert item["fields"], "a changed record names the fields that changed"
        for f in item["fields"]:
            assert out[key][f["row"] - 1].get(f["field"]) == f["old"], f
        out[key] = item["rows"]
    for item in feed["removed"]:
        key = (item["sheet"], item["key"])
        assert key in out, f"removed but never added: {key}"
        assert item["reason"] in ("死亡", "迁出", "撤回", "合并", "不再符合条件"), item
        del out[key]
    return out


def full(feed: dict[str, Any]) -> State:
    """A pull without a cursor: every record, as added."""
    assert not feed["changed"] and not feed["removed"] and feed["since"] is None
    return apply({}, feed)


def rows_of(state: State, sheet: str) -> list[str]:
    """The rows of one sheet, each as canonical JSON, sorted (the department's order is its own)."""
    return sorted(
        json.dumps(r, ensure_ascii=False, sort_keys=True)
        for (s, _), rows in state.items()
        if s == sheet
        for r in rows
    )
