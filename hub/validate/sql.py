"""DuckDB macros (``hub_*``) implementing the national standards in SQL.

Each macro mirrors a reference function of :mod:`hub.standards`; ``tests/validate`` proves they agree
on random and edge inputs. Inputs are text already cleaned by :mod:`hub.validate.batch` (NFKC, no
zero-width characters, placeholders → NULL). Macros are TEMP: they live in the connection, never in
the store file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.sqltext import sql_literal
from hub.standards import dates, ids, numbers, phones, uscc

if TYPE_CHECKING:
    from hub.store.db import Database


#: Every character Python's ``\s`` (``str.isspace``) matches: dates.prepare deletes them all. Written
#: out (tests/validate checks it against ``str.isspace``): scanning all of Unicode took 0.9 s at import.
_WS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_WS_RARE = "[" + _WS.replace(" ", "") + "]"  # all but the ASCII space (which replace() deletes)
#: phones.STRIP_RE (``[\s()\[\]\-]`` with re.ASCII) as a translate() deletion set.
_PHONE_STRIP = " \t\n\r\f\v()[]-"
#: phones.is_valid_phone as one regex: mobile or fixed line.
_PHONE_OK = phones.MOBILE_RE.pattern[1:-1] + "|" + phones.FIXED_RE.pattern[1:-1]


def _replaces(expr: str, pairs: list[tuple[str, str]]) -> str:
    """Nested replace() calls (much faster in DuckDB than translate() or a regex)."""
    for old, new in pairs:
        expr = f"replace({expr}, {sql_literal(old)}, {sql_literal(new)})"
    return expr


def _id_sum(arg: str) -> str:
    return " + ".join(f"(ascii(substr({arg}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(ids.WEIGHTS))


def _uscc_sum(arg: str) -> str:
    alpha = sql_literal(uscc.ALPHABET)
    return " + ".join(
        f"(strpos({alpha}, substr({arg}, {i + 1}, 1)) - 1) * {w}" for i, w in enumerate(uscc.WEIGHTS)
    )


def macros() -> list[str]:
    """The ``CREATE OR REPLACE TEMP MACRO`` statements, in dependency order."""
    y0, y1 = dates.MIN_YEAR, dates.MAX_YEAR
    return [
        # -- 公民身份号码 -------------------------------------------------------------------------------
        f"CREATE OR REPLACE TEMP MACRO hub_id_check_char(s) AS substr({sql_literal(ids.CHECK_CHARS)}, (({_id_sum('s')}) % 11) + 1, 1)",
        "CREATE OR REPLACE TEMP MACRO hub_date8(s) AS CASE WHEN regexp_full_match(s, '\\d{8}') "
        f"AND CAST(substr(s, 1, 4) AS INTEGER) >= {ids.MIN_YEAR} "
        "THEN try_cast(substr(s, 1, 4) || '-' || substr(s, 5, 2) || '-' || substr(s, 7, 2) AS DATE) END",
        "CREATE OR REPLACE TEMP MACRO hub_id15_to_18(s) AS "
        "substr(s, 1, 6) || '19' || substr(s, 7) || hub_id_check_char(substr(s, 1, 6) || '19' || substr(s, 7))",
        # the check of ids.check_id, in the same order; NULL when valid or empty
        "CREATE OR REPLACE TEMP MACRO hub_id_code(s, today) AS CASE "
        "WHEN s IS NULL THEN NULL "
        # the regexes need a '.' or an exponent; cheap tests first (CASE evaluates lazily)
        "WHEN (contains(s, '.') OR contains(s, 'E') OR contains(s, 'e')) "
        f"AND regexp_matches(s, {sql_literal(ids.PRECISION_LOST_RE.pattern)}) THEN 'id-precision-lost' "
        "WHEN regexp_full_match(s, '\\d{15}') THEN CASE WHEN coalesce(hub_date8('19' || substr(s, 7, 6)) > today, true) "
        "THEN 'id-date-invalid' ELSE 'id-legacy-converted' END "
        "WHEN NOT regexp_full_match(s, '\\d{17}[\\dX]') THEN 'id-format' "
        "WHEN coalesce(hub_date8(substr(s, 7, 8)) > today, true) THEN 'id-date-invalid' "
        "WHEN hub_id_check_char(s) <> substr(s, 18, 1) THEN 'id-checksum' END",
        "CREATE OR REPLACE TEMP MACRO hub_id_value(s, code) AS CASE WHEN s IS NULL THEN NULL "
        "WHEN code IS NULL THEN s WHEN code = 'id-legacy-converted' THEN hub_id15_to_18(s) END",
        "CREATE OR REPLACE TEMP MACRO hub_id_detail(s, code) AS CASE code "
        "WHEN 'id-legacy-converted' THEN hub_id15_to_18(s) "
        "WHEN 'id-date-invalid' THEN CASE WHEN length(s) = 15 THEN '19' || substr(s, 7, 6) ELSE substr(s, 7, 8) END END",
        "CREATE OR REPLACE TEMP MACRO hub_id_sex(v) AS CASE WHEN v IS NULL THEN NULL "
        "WHEN CAST(substr(v, 17, 1) AS INTEGER) % 2 = 1 THEN '1' ELSE '2' END",
        "CREATE OR REPLACE TEMP MACRO hub_id_birth(v) AS hub_date8(substr(v, 7, 8))",
        "CREATE OR REPLACE TEMP MACRO hub_id_type(v) AS CASE WHEN v IS NULL THEN NULL "
        "WHEN substr(v, 1, 1) = '9' THEN 'foreign_permanent' "
        "WHEN substr(v, 1, 2) IN ('81', '82', '83') THEN 'hk_mo_tw' ELSE 'resident' END",
        "CREATE OR REPLACE TEMP MACRO hub_age(b, ref) AS year(ref) - year(b) - "
        "CASE WHEN month(ref) * 100 + day(ref) < month(b) * 100 + day(b) THEN 1 ELSE 0 END",
        # -- 统一社会信用代码 -----------------------------------------------------------------------------
        "CREATE OR REPLACE TEMP MACRO hub_uscc_check_char(s) AS "
        f"substr({sql_literal(uscc.ALPHABET)}, ((31 - ({_uscc_sum('s')}) % 31) % 31) + 1, 1)",
        "CREATE OR REPLACE TEMP MACRO hub_uscc_code(s) AS CASE WHEN s IS NULL THEN NULL "
        f"WHEN NOT regexp_full_match(s, '[{uscc.ALPHABET}]{{18}}') THEN 'uscc-format' "
        "WHEN hub_uscc_check_char(s) <> substr(s, 18, 1) THEN 'uscc-checksum' END",
        # -- dates: p is the text prepared by hub_date_prep ---------------------------------------------
        # dates.prepare: the time regex only when there is a ':' (on the text trimmed of whitespace),
        # then every whitespace character (Python's \s) deleted and the separators mapped to '-'
        f"CREATE OR REPLACE TEMP MACRO hub_date_untime(s) AS CASE WHEN contains(s, ':') "
        f"THEN regexp_replace(trim(s, {sql_literal(_WS)}), {sql_literal(dates._TIME_RE.pattern)}, '') ELSE s END",
        f"CREATE OR REPLACE TEMP MACRO hub_date_unspace(x) AS CASE WHEN regexp_matches(x, {sql_literal(_WS_RARE)}) "
        f"THEN regexp_replace(x, {sql_literal(_WS_RARE)}, '', 'g') ELSE x END",
        "CREATE OR REPLACE TEMP MACRO hub_date_prep(s) AS rtrim(regexp_replace("
        + _replaces(
            "hub_date_unspace(hub_date_untime(s))",
            [(" ", ""), ("年", "-"), ("月", "-"), ("/", "-"), (".", "-")],
        )
        + ", '日$', ''), '-')",
        f"CREATE OR REPLACE TEMP MACRO hub_ymd(y, m, d) AS CASE WHEN CAST(y AS INTEGER) BETWEEN {y0} AND {y1} "
        "THEN try_cast(y || '-' || m || '-' || d AS DATE) END",
        "CREATE OR REPLACE TEMP MACRO hub_date_value(p, epoch_1904) AS CASE "
        "WHEN regexp_full_match(p, '\\d{4}-\\d{1,2}-\\d{1,2}') "
        "THEN hub_ymd(split_part(p, '-', 1), split_part(p, '-', 2), split_part(p, '-', 3)) "
        "WHEN regexp_full_match(p, '\\d{8}') THEN hub_ymd(substr(p, 1, 4), substr(p, 5, 2), substr(p, 7, 2)) "
        "WHEN regexp_full_match(p, '\\d{4}-\\d{1,2}') THEN hub_ymd(split_part(p, '-', 1), split_part(p, '-', 2), '1') "
        "WHEN regexp_full_match(p, '\\d{6}') THEN hub_ymd(substr(p, 1, 4), substr(p, 5, 2), '1') "
        "WHEN regexp_full_match(p, '\\d{5}(\\.\\d+)?') THEN CAST(CASE WHEN epoch_1904 THEN DATE '1904-01-01' "
        "ELSE DATE '1899-12-30' END + CAST(substr(p, 1, 5) AS INTEGER) AS DATE) END",
        "CREATE OR REPLACE TEMP MACRO hub_date_precision(p) AS CASE "
        "WHEN regexp_full_match(p, '\\d{4}-\\d{1,2}') OR regexp_full_match(p, '\\d{6}') THEN 'month' ELSE 'day' END",
        # -- phones: list of normalised parts -------------------------------------------------------------
        # phones.normalise_part on text already stripped (the strip and split characters are disjoint,
        # so the whole cell is stripped once before splitting)
        "CREATE OR REPLACE TEMP MACRO hub_phone_part(x) AS CASE "
        "WHEN starts_with(x, '+86') THEN substr(x, 4) "
        "WHEN starts_with(x, '86') AND length(x) = 13 THEN substr(x, 3) ELSE x END",
        "CREATE OR REPLACE TEMP MACRO hub_phone_parts(s) AS list_filter(list_transform(string_split_regex("
        + _replaces("s", [(c, "") for c in _PHONE_STRIP])
        + f", {sql_literal(phones.SPLIT_RE.pattern)}), lambda x: hub_phone_part(x)), lambda x: x <> '')",
        "CREATE OR REPLACE TEMP MACRO hub_phone_valid(parts) AS coalesce(list_bool_and(list_transform(parts, "
        f"lambda x: regexp_full_match(x, {sql_literal(_PHONE_OK)}))), true)",
        # -- numbers: NULL for garbage; callers test (s IS NOT NULL AND value IS NULL) ------------------
        f"CREATE OR REPLACE TEMP MACRO hub_number_text(s) AS regexp_replace(s, {sql_literal(numbers.UNIT_RE.pattern)}, '', 'g')",
        "CREATE OR REPLACE TEMP MACRO hub_number(t) AS CASE "
        f"WHEN regexp_full_match(t, {sql_literal(numbers.NUMBER_RE.pattern[1:-1])}) THEN try_cast(t AS DECIMAL(38, 6)) "
        f"WHEN regexp_full_match(t, {sql_literal(numbers.NUMBER_RE.pattern[1:-1] + '万')}) "
        "THEN try_cast(rtrim(t, '万') AS DECIMAL(38, 6)) * 10000 END",
    ]


def install_macros(db: Database) -> None:
    """Create (or replace) every ``hub_*`` macro on the connection."""
    for statement in macros():
        db.execute(statement)
