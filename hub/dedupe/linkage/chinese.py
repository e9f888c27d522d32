"""Comparison features and the Splink spec for Chinese person records.

:func:`prepare` turns any source query with the columns of :data:`SOURCE_COLUMNS` into the linkage
input table: name keys (simplified form, pinyin reading set, primary reading) joined from a table
computed once per distinct name, and ID features computed in SQL:

* ``id_valid``  – a valid 18-character number (15-digit numbers already converted to 18);
* ``id17``      – the first 17 characters of any 18-character text, so a wrong check character still
  meets the right number;
* ``id_fuzzy``  – the digits of a typed number (16–19 chars), for one transposed, wrong or dropped digit;
* ``id_prefix`` – the significant digits left in a number Excel stored as a float
  (330727199001011200.0 → 330727199001011), kept only when at least 14 are left: region and birth date.
  ``3.30727E+17`` keeps six, the region alone, which every number of the county shares: such a
  number tells people apart no better than an empty cell and is compared as one;
* ``name_year`` – simplified name and birth year; ``nv_name_year`` the same on records WITHOUT a usable
  ID only, so the blocking rule ``l.nv_name_year = r.name_year`` reaches an ID-less record's person
  across townships and past a birth date with day and month swapped or known to the month only, without
  pairing the million records that have an ID among themselves.
"""

from __future__ import annotations

from typing import Any

from hub.dedupe.linkage.engine import LinkSpec
from hub.dedupe.linkage.names import stored_name_keys
from hub.store.db import Database

#: What a source query must give (one row per record; ``uid`` unique).
SOURCE_COLUMNS = (
    "uid", "name", "sex", "birth_date", "birth_precision", "village_code", "phone", "id_text", "id_valid",
)  # fmt: skip

_FEATURES_SQL = r"""
CREATE OR REPLACE TABLE {out} AS
SELECT s.uid, s.name, k.name_s, k.py_key, k.py_set, s.sex, s.birth_date,
       coalesce(s.birth_precision, 'day') AS birth_precision, s.village_code,
       nullif(split_part(s.phone, ';', 1), '') AS phone1, s.phone, s.id_valid,
       CASE WHEN s.id_valid IS NOT NULL THEN left(s.id_valid, 17)
            WHEN regexp_full_match(s.id_text, '\d{{17}}[\dX]') THEN left(s.id_text, 17) END AS id17,
       CASE WHEN s.id_valid IS NOT NULL THEN s.id_valid
            WHEN regexp_full_match(s.id_text, '\d{{15,18}}X?') THEN s.id_text END AS id_fuzzy,
       CASE WHEN length(p.prefix) >= 14 THEN p.prefix END AS id_prefix,
       k.name_s || '|' || year(s.birth_date) AS name_year,
       CASE WHEN s.id_valid IS NULL THEN k.name_s || '|' || year(s.birth_date) END AS nv_name_year
FROM ({source}) s LEFT JOIN __hub_link_names k ON k.name = s.name,
LATERAL (SELECT CASE WHEN regexp_full_match(s.id_text, '\d+(\.\d+)?[eE]\+?\d+')
                          THEN rtrim(replace(split_part(upper(s.id_text), 'E', 1), '.', ''), '0')
                     WHEN regexp_full_match(s.id_text, '\d{{6,}}\.\d*') THEN left(s.id_text, 15) END AS prefix) p
"""


def prepare(db: Database, source_sql: str, out: str = "hub_link_input") -> int:
    """Build the linkage input table ``out`` from ``source_sql``; returns its row count."""
    names = [r[0] for r in db.rows(f"SELECT DISTINCT name FROM ({source_sql}) q WHERE name IS NOT NULL")]
    db.register("__hub_link_names", stored_name_keys(db, names))
    try:
        db.execute(_FEATURES_SQL.format(out=out, source=source_sql))
    finally:
        db.unregister("__hub_link_names")
    return int(db.scalar(f"SELECT count(*) FROM {out}"))


def _lv(sql: str, label: str, *, null: bool = False) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        level["is_null_level"] = True
    return level


def _comparison(name: str, levels: list[dict[str, Any]]) -> dict[str, Any]:
    return {"output_column_name": name, "comparison_levels": [*levels, _lv("ELSE", "不同")]}


NAME = _comparison("name", [
    _lv("name_s_l IS NULL OR name_s_r IS NULL", "空", null=True),
    _lv("name_l = name_r", "姓名相同"),
    _lv("name_s_l = name_s_r", "繁简转换后相同"),
    _lv("len(list_intersect(py_set_l, py_set_r)) > 0", "同音（拼音读音集合相交）"),
    _lv("levenshtein(name_s_l, name_s_r) <= 1", "字形相近（差一字）"),
])  # fmt: skip
BIRTH = _comparison("birth_date", [
    _lv("birth_date_l IS NULL OR birth_date_r IS NULL", "空", null=True),
    _lv("birth_date_l = birth_date_r AND birth_precision_l = 'day' AND birth_precision_r = 'day'", "出生日期相同"),
    _lv("date_trunc('month', birth_date_l) = date_trunc('month', birth_date_r) "
        "AND 'month' IN (birth_precision_l, birth_precision_r)", "年月相同（一方只精确到月）"),
    _lv("year(birth_date_l) = year(birth_date_r) AND month(birth_date_l) = day(birth_date_r) "
        "AND day(birth_date_l) = month(birth_date_r)", "月日颠倒"),
    _lv("year(birth_date_l) = year(birth_date_r)", "同年"),
])  # fmt: skip
SEX = _comparison("sex", [
    _lv("sex_l IS NULL OR sex_r IS NULL OR sex_l NOT IN ('1', '2') OR sex_r NOT IN ('1', '2')", "空", null=True),
    _lv("sex_l = sex_r", "性别相同"),
])  # fmt: skip
VILLAGE = _comparison("village", [
    _lv("village_code_l IS NULL OR village_code_r IS NULL", "空", null=True),
    _lv("village_code_l = village_code_r", "同村（社区）"),
    _lv("left(village_code_l, 9) = left(village_code_r, 9)", "同乡镇"),
])  # fmt: skip
PHONE = _comparison("phone", [
    _lv("phone_l IS NULL OR phone_r IS NULL", "空", null=True),
    _lv("len(list_intersect(string_split(phone_l, ';'), string_split(phone_r, ';'))) > 0", "电话相同"),
])  # fmt: skip
_PREFIX_AGREES = "(starts_with(id_fuzzy_r, id_prefix_l) OR starts_with(id_fuzzy_l, id_prefix_r))"
#: A precision-lost number's digits are region + birth date + one: with equal stated birth dates they
#: restate what the birth comparison has counted, so this level's u is measured among pairs born the
#: same day (``PERSON_SPEC.u_given``), not among random pairs.
PREFIX_SAME_BIRTH = "与Excel丢失精度后剩下的有效数字一致（出生日期相同）"
ID = _comparison("id_number", [
    _lv("(id_fuzzy_l IS NULL AND id_prefix_l IS NULL) OR (id_fuzzy_r IS NULL AND id_prefix_r IS NULL)",
        "空", null=True),
    _lv("id_valid_l = id_valid_r", "身份证号相同"),
    _lv("id_valid_l IS NOT NULL AND id_valid_r IS NOT NULL", "两个不同的有效身份证号"),
    _lv("id17_l = id17_r", "前17位相同（校验位错）"),
    _lv("damerau_levenshtein(id_fuzzy_l, id_fuzzy_r) <= 1", "差一位（录错、颠倒或漏一位）"),
    _lv(f"birth_date_l = birth_date_r AND {_PREFIX_AGREES}", PREFIX_SAME_BIRTH),
    _lv(_PREFIX_AGREES, "与Excel丢失精度后剩下的有效数字一致（出生日期栏不同）"),
])  # fmt: skip

#: The default model (m, u per level; docs/linkage.md): used when there is no saved model and the store
#: is too small or too new to train one. Rounded from models trained on generated county data, with u
#: of name and birth-date agreement raised towards a township's (common names, fewer birth dates) so
#: that name and birth year alone stay in review. Each comparison's m sum to 1, and its u.
DEFAULT_LEVELS: dict[str, dict[str, tuple[float, float]]] = {
    "name": {"姓名相同": (0.92, 1e-3), "繁简转换后相同": (0.013, 1e-5), "同音（拼音读音集合相交）": (0.017, 1e-4),
             "字形相近（差一字）": (0.006, 0.014), "不同": (0.044, 0.98489)},
    "birth_date": {"出生日期相同": (0.94, 1.5e-4), "年月相同（一方只精确到月）": (0.04, 5e-5),
                   "月日颠倒": (0.015, 2e-5), "同年": (0.002, 0.02), "不同": (0.003, 0.97978)},
    "sex": {"性别相同": (0.99, 0.5), "不同": (0.01, 0.5)},
    "village": {"同村（社区）": (0.85, 0.05), "同乡镇": (0.01, 0.05), "不同": (0.14, 0.90)},
    "phone": {"电话相同": (0.8, 1e-4), "不同": (0.2, 0.9999)},
    "id_number": {"身份证号相同": (0.94, 1e-4), "两个不同的有效身份证号": (1e-6, 0.92),
                  "前17位相同（校验位错）": (0.01, 1e-6), "差一位（录错、颠倒或漏一位）": (0.03, 5e-6),
                  PREFIX_SAME_BIRTH: (0.01, 0.01), "与Excel丢失精度后剩下的有效数字一致（出生日期栏不同）": (0.002, 5e-7),
                  "不同": (0.007999, 0.069893)},
}  # fmt: skip

PERSON_SPEC = LinkSpec(
    comparisons=[NAME, BIRTH, SEX, VILLAGE, PHONE, ID],
    blocking_rules=[
        "l.id17 = r.id17",
        "l.py_key = r.py_key AND l.birth_date = r.birth_date",
        "l.py_key = r.py_key AND l.village_code = r.village_code",
        "l.birth_date = r.birth_date AND l.village_code = r.village_code",
        "l.phone1 = r.phone1",
        "l.nv_name_year = r.name_year",
        "l.name_year = r.nv_name_year",
    ],
    em_rules=[
        "l.id17 = r.id17",
        "l.py_key = r.py_key AND l.birth_date = r.birth_date",
        "l.name_s = r.name_s AND l.village_code = r.village_code",
    ],
    prior_rules=["l.id_valid = r.id_valid", "l.name_s = r.name_s AND l.birth_date = r.birth_date"],
    prior_recall=0.9,
    u_given={PREFIX_SAME_BIRTH: "l.birth_date = r.birth_date"},
    default_levels=DEFAULT_LEVELS,
    rule_labels={
        "l.id17 = r.id17": "身份证号前17位相同",
        "l.py_key = r.py_key AND l.birth_date = r.birth_date": "姓名同音且出生日期相同",
        "l.name_s = r.name_s AND l.village_code = r.village_code": "姓名相同且同村",
        "l.id_valid = r.id_valid": "身份证号相同",
        "l.name_s = r.name_s AND l.birth_date = r.birth_date": "姓名和出生日期相同",
    },
)
