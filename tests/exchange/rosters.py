"""Tiny population rosters (CSV, as a clerk would export them) for the resubmission and 回流 tests."""

from __future__ import annotations

from pathlib import Path

from hub.standards.ids import id_check_char

HEADER = ["姓名", "公民身份号码", "性别", "出生日期", "民族", "村（社区）", "现住址", "联系电话"]
OCTOBER, NOVEMBER, DECEMBER = (
    "青山镇人口花名册2026年10月.csv",
    "青山镇人口花名册2026年11月.csv",
    "青山镇人口花名册2026年12月.csv",
)
CHENGGUAN = "城关街道流动人口登记2026.csv"


def person_id(n: int) -> str:
    first17 = f"3310991950{(n % 12) + 1:02d}{(n % 27) + 1:02d}{n:03d}"
    return first17 + id_check_char(first17)


def person(n: int, phone: str = "", village: str = "青山社区") -> list[str]:
    pid = person_id(n)
    sex = "男" if int(pid[16]) % 2 else "女"
    return [
        f"居民{n:03d}",
        pid,
        sex,
        f"{pid[6:10]}-{pid[10:12]}-{pid[12:14]}",
        "汉族",
        village,
        f"{village}{n}号",
        phone,
    ]


def write_roster(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return path


def month_rosters(folder: Path) -> dict[str, Path]:
    """青山镇's October roster (residents 1–6) and its November resubmission: 2 and 5 no longer
    listed, 3's phone changed, 7 new; and 城关街道's roster giving resident 4's marital status."""
    oct_rows = [person(n) for n in range(1, 7)]
    nov_rows = [person(n, phone="13900000003" if n == 3 else "") for n in (1, 3, 4, 6, 7)]
    cg = [[*person(4, village="城南社区")[:4], "已婚", "城南社区"]]
    return {
        "october": write_roster(folder / OCTOBER, oct_rows),
        "november": write_roster(folder / NOVEMBER, nov_rows),
        "chengguan": write_roster(
            folder / CHENGGUAN, cg, ["姓名", "公民身份号码", "性别", "出生日期", "婚姻状况", "村（社区）"]
        ),
    }
