"""口径 boundaries, checks before writing, code translations and masking."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from export_helpers import load_rows

from hub.errors import ExportError
from hub.export import export_reports, preview_report
from hub.store.db import Database

QS, DL = "331099101001", "331099101201"


def person(code: str, birth: str, sex: str = "1", village: str = QS, **kw: object) -> dict[str, object]:
    return {
        "person_code": code,
        "id_number": f"331099{birth.replace('-', '')}{int(code[1:]):03d}{sex}"[:18],
        "name": f"人{code}",
        "sex": sex,
        "birth_date": birth,
        "township_code": village[:9],
        "village_code": village,
        **kw,
    }


@pytest.mark.parametrize(
    ("birth", "ref", "age"),
    [
        ("1946-11-30", "2026-11-30", 80),  # birthday ON the reference date counts
        ("1946-12-01", "2026-11-30", 79),
        ("2000-02-29", "2025-02-28", 24),  # 29 February: not yet on 28 February of a non-leap year
        ("2000-02-29", "2025-03-01", 25),  # …reached on 1 March
        ("2000-02-29", "2024-02-29", 24),
        ("2000-02-29", "2024-02-28", 23),
    ],
)
def test_age_on(db: Database, birth: str, ref: str, age: int) -> None:
    assert db.scalar(f"SELECT age_on(DATE '{birth}', DATE '{ref}')") == age


def test_masks(db: Database) -> None:
    assert db.rows("SELECT mask_id('33109919500301103X'), mask_mobile('13812345678'), mask_id(NULL)") == [
        ("331099********103X", "138****5678", None)
    ]


def _gaoling(db: Database, report_date: dt.date) -> dict[str, object]:
    rows = preview_report(db, "MZ-GAOLING", "331099101", report_date)
    return rows[-1]  # 合计


def test_gaoling_month_after_80th_birthday_and_band_change_at_90(db: Database) -> None:
    load_rows(
        db,
        {"hub_person": [person("P1", "1946-11-15"), person("P2", "1936-11-15"), person("P3", "1944-02-29")]},
    )
    oct_ = _gaoling(db, dt.date(2026, 11, 1))  # ages on 2026-10-31: P1 79, P2 89, P3 82
    assert (oct_["80-89周岁/人数（个）"], oct_["90-94周岁/人数（个）"], oct_["合计/金额（元）"]) == (
        2,
        0,
        120,
    )
    nov = _gaoling(db, dt.date(2026, 11, 30))  # still November: ages on 10-31 decide
    assert nov == oct_
    dec = _gaoling(db, dt.date(2026, 12, 1))  # ages on 11-30: P1 80 (paid from December), P2 90 → 90-94
    assert (dec["80-89周岁/人数（个）"], dec["90-94周岁/人数（个）"], dec["合计/金额（元）"]) == (2, 1, 320)


def test_gaoling_29_february_birth_reaches_90_on_1_march_of_a_non_leap_year(db: Database) -> None:
    load_rows(db, {"hub_person": [person("P1", "1936-02-29")]})  # 2026 is not a leap year
    march = preview_report(db, "MZ-GAOLING", "331099101", dt.date(2026, 3, 1))[-1]  # age on 2026-02-28: 89
    april = preview_report(db, "MZ-GAOLING", "331099101", dt.date(2026, 4, 1))[-1]  # age on 2026-03-31: 90
    assert (march["80-89周岁/人数（个）"], march["90-94周岁/人数（个）"]) == (1, 0)
    assert (april["80-89周岁/人数（个）"], april["90-94周岁/人数（个）"], april["合计/金额（元）"]) == (
        0,
        1,
        200,
    )


def test_elderly_turning_65_during_year(db: Database) -> None:
    load_rows(db, {"hub_person": [person("P1", "1961-12-31"), person("P2", "1962-01-01")]})
    rows = preview_report(db, "WJ-ELDERLY65", "331099101", dt.date(2026, 1, 15))
    assert [(r["姓名"], r["年龄"]) for r in rows[:-1]] == [("人P1", 65)]


def test_tj_pop_failed_check_refuses_the_file_and_says_why(db: Database, tmp_path: Path) -> None:
    load_rows(db, {"hub_person": [person("P1", "1990-01-01"), person("P2", "1990-01-01", sex="9")]})
    (result,) = export_reports(db, reports=["TJ-POP"], ref_date=dt.date(2026, 12, 1), out_dir=tmp_path)
    assert not result.written and result.path is None and result.records == 0
    assert len(result.problems) == 1 and "TJ-POP" in result.problems[0] and "1=2+3" in result.problems[0]
    assert not list(tmp_path.rglob("*.xlsx"))


def test_a_refused_report_does_not_stop_the_others(db: Database, tmp_path: Path) -> None:
    load_rows(db, {"hub_person": [person("P1", "1990-01-01"), person("P2", "1990-01-01", sex="9")]})
    results = export_reports(
        db, reports=["TJ-POP", "GA-SYRK"], ref_date=dt.date(2026, 12, 1), out_dir=tmp_path
    )
    assert [(r.report, r.written) for r in results] == [("TJ-POP", False), ("GA-SYRK", True)]
    assert results[1].path is not None and results[1].path.exists() and results[1].records == 2


def _dibao(db: Database, covered: int, relation: str = "02", sex: str = "1") -> None:
    load_rows(
        db,
        {
            "hub_person": [person("P1", "1950-01-01", sex=sex)],
            "hub_household": [
                {
                    "household_code": "H1",
                    "kind": "低保家庭",
                    "township_code": "331099101",
                    "village_code": QS,
                    "head_person_code": "P1",
                    "covered_count": covered,
                    "dibao_amount": 500,
                    "active": True,
                }
            ],
            "hub_membership": [{"household_code": "H1", "person_code": "P1", "relation": relation, "seq": 1}],
        },
    )


def test_dibao_household_with_covered_above_size_is_held_back_and_named(db: Database, tmp_path: Path) -> None:
    _dibao(db, covered=2)
    (result,) = export_reports(db, reports=["MZ-DIBAO"], ref_date=dt.date(2026, 11, 30), out_dir=tmp_path)
    assert result.written and result.records == 0
    (problem,) = result.problems
    assert (
        problem.startswith("MZ-DIBAO 青山镇 花名册：")
        and "保障人数 2，家庭人口 1 未报送（保障人数≤家庭人口 不成立）" in problem
    )
    from openpyxl import load_workbook

    assert result.path is not None
    ws = load_workbook(result.path).active
    ids = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and len(c.value) == 18]
    assert ids == []  # the held household is not in the file


def test_one_bad_household_does_not_hold_back_the_others(db: Database, tmp_path: Path) -> None:
    _dibao(db, covered=1)
    good = export_reports(db, reports=["MZ-DIBAO"], ref_date=dt.date(2026, 11, 30), out_dir=tmp_path / "a")
    assert good[0].records == 1 and good[0].problems == []


def test_untranslated_code_is_reported_never_blank(db: Database, tmp_path: Path) -> None:
    _dibao(db, covered=1, sex="7")
    (result,) = export_reports(db, reports=["MZ-DIBAO"], ref_date=dt.date(2026, 11, 30), out_dir=tmp_path)
    assert result.problems == ["MZ-DIBAO 花名册“家庭成员情况/性别”列：代码 '7' 在代码表 sex 中没有对应文字"]
    assert preview_report(db, "MZ-DIBAO", "331099101", dt.date(2026, 11, 30))[0]["家庭成员情况/性别"] == "7"


def test_masked_copy_uses_the_one_rule(db: Database, tmp_path: Path) -> None:
    _dibao(db, covered=1)
    (result,) = export_reports(
        db, reports=["MZ-DIBAO"], ref_date=dt.date(2026, 11, 30), out_dir=tmp_path, masked=True
    )
    from openpyxl import load_workbook

    ws = load_workbook(result.path)["花名册"]
    assert ws["D6"].value == ws["K6"].value == "331099********0011"
    assert result.path.name == "MZ-DIBAO_331099101_青山镇_2026-11_脱敏.xlsx"


def test_gbk_unencodable_name_is_an_error(db: Database, tmp_path: Path) -> None:
    load_rows(db, {"hub_person": [person("P1", "1990-01-01", name="𠮷野")]})
    with pytest.raises(ExportError, match="gbk"):
        export_reports(db, reports=["GA-SYRK"], ref_date=dt.date(2026, 11, 30), out_dir=tmp_path)


def test_township_filter_and_progress(db: Database, tmp_path: Path) -> None:
    load_rows(
        db, {"hub_person": [person("P1", "1940-01-01"), person("P2", "1940-01-01", village="331099201201")]}
    )
    seen: list[str] = []
    results = export_reports(
        db,
        reports=["MZ-GAOLING"],
        townships=["331099201"],
        ref_date=dt.date(2026, 11, 30),
        out_dir=tmp_path,
        progress=seen.append,
    )
    assert [(r.township, r.township_name, r.records) for r in results] == [("331099201", "白水乡", 1)]
    assert len(seen) == 1 and "白水乡" in seen[0]


def test_preview_of_a_draft_spec(db: Database) -> None:
    from hub.errors import SpecError

    load_rows(db, {"hub_person": [person("P1", "1940-01-01")]})
    text = (Path(__file__).resolve().parents[2] / "mappings" / "MZ-GAOLING.yaml").read_text(encoding="utf-8")
    with pytest.raises(SpecError) as err:
        preview_report(
            db,
            "MZ-GAOLING",
            "331099101",
            dt.date(2026, 11, 30),
            spec_text=text.replace("p.village_name", "p.villge_name"),
        )
    assert any("did you mean 'village_name'" in p for p in err.value.problems)


def test_tj_pop_single_small_village_is_folded_with_the_next_smallest(db: Database) -> None:
    villages = {"331099101001": 12, "331099101201": 11, "331099101202": 3}
    people = [
        person(f"P{v[-3:]}{i:02d}", "1990-01-01", sex="12"[i % 2], village=v)
        for v, n in villages.items()
        for i in range(n)
    ]
    load_rows(db, {"hub_person": people})
    rows = preview_report(db, "TJ-POP", "331099101", dt.date(2026, 12, 31))
    got = [(r["村（社区）名称"], r["统计用区划代码"], r["总人口"]) for r in rows]
    assert got == [("合计", None, 26), ("青山社区", "331099101001", 12), ("其他村（社区）", None, 14)]


def test_a_township_with_no_rows_previews_empty_instead_of_failing_its_checks(db: Database) -> None:
    load_rows(db, {"hub_person": [person("P1", "1990-01-01")]})  # nobody over 80
    for report in ("MZ-GAOLING", "MZ-DIBAO", "CL-LXBT"):
        rows = preview_report(db, report, "331099101", dt.date(2026, 11, 30))
        assert all(not any(isinstance(v, (int, float)) and v for v in r.values()) for r in rows), (
            report,
            rows,
        )
