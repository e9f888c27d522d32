"""Tiny population rosters (CSV, as a clerk would export them) for the resubmission and 回流 tests."""

from __future__ import annotations

from pathlib import Path

from hub.standards.ids import id_check_char

HEADER = "姓名,公民身份号码,性别,出生日期,民族,村（社区）,现住址,联系电话\n"


def person_id(n: int, town: str = "331099") -> str:
    first17 = f"{town}1950{(n % 12) + 1:02d}{(n % 27) + 1:02d}{n:03d}"
    return first17 + id_check_char(first17)


def person(n: int, name: str | None = None, village: str = "青山社区", phone: str = "") -> list[str]:
    pid = person_id(n)
    sex = "男" if int(pid[16]) % 2 else "女"
    return [name or f"居民{n:03d}", pid, sex, f"{pid[6:10]}-{pid[10:12]}-{pid[12:14]}", "汉族", village, f"{village}{n}号", phone]


def write_roster(path: Path, rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return path
