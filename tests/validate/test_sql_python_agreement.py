"""The SQL macros of :mod:`hub.validate.sql` (on text cleaned by :mod:`hub.validate.batch`) agree with
the pure-Python reference functions of :mod:`hub.standards`, on curated edge cases and on many
generated inputs. Every comparison runs the production path: ``clean_array`` then the macros."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.model import load_schema
from hub.standards import dates, ids, numbers, phones, uscc
from hub.standards.ids import clean_id_text
from hub.standards.text import clean_text
from hub.store.db import Database
from hub.validate.batch import clean_array
from hub.validate.rules import schema_macros
from hub.validate.sql import macros
from tests.shared import examples

TODAY = date(2026, 11, 25)
#: 150 examples under `make test-all` (--hypothesis-profile=full), 20 in `make test`: each *_edges test
#: runs its curated cases in both
SETTINGS = settings(
    max_examples=examples(fast=20, full=150),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
#: whitespace that survives cleaning but Python's ``\s`` matches, and what cleaning folds
ODD_SPACES = ["\x1c", "\x1f", "\u1680", "\u3000", "\u00a0", "\t", "\u200b"]


@pytest.fixture(scope="module")
def sqldb():
    database = Database(None)
    for statement in [*macros(), *schema_macros(load_schema())]:
        database.execute(statement)
    yield database
    database.close()


def run_sql(db: Database, raws: list[str | None], select: str, *, identifier: bool) -> list[tuple]:
    """``select`` over ``c`` (the cell cleaned by batch.clean_array), one result row per input."""
    cleaned = clean_array(pa.array(raws, pa.string()), identifier=identifier)
    table = pa.table({"i": pa.array(range(len(raws)), pa.int32()), "c": cleaned})
    db.register("agreement_input", table)
    try:
        return [r[1:] for r in db.rows(f"SELECT i, {select} FROM agreement_input ORDER BY i")]
    finally:
        db.unregister("agreement_input")


# -- cleaning ---------------------------------------------------------------------------------------
cell_text = st.text(
    alphabet=st.sampled_from(list("0123456789Xx年月日-/.:() 'ab张") + ODD_SPACES + ["－", "—", "１", "（"]),
    max_size=14,
)


@SETTINGS
@given(st.lists(st.one_of(st.none(), cell_text, st.sampled_from(["无", " / ", "——", "暂无"])), max_size=30))
def test_vectorised_cleaning_matches_python(raws):
    assert clean_array(pa.array(raws, pa.string()), identifier=False).to_pylist() == [
        clean_text(r) for r in raws
    ]
    assert clean_array(pa.array(raws, pa.string()), identifier=True).to_pylist() == [
        clean_id_text(r) for r in raws
    ]


# -- 公民身份号码 ----------------------------------------------------------------------------------------
ID_SELECT = (
    "hub_id_code(c, DATE '2026-11-25') AS code, hub_id_value(c, hub_id_code(c, DATE '2026-11-25')) AS v, "
    "hub_id_detail(c, hub_id_code(c, DATE '2026-11-25')) AS d"
)
ID_DERIVED = "hub_id_sex(c), hub_id_birth(c), hub_id_type(c)"


def assert_ids_agree(db: Database, raws: list[str | None]) -> None:
    got = run_sql(db, raws, ID_SELECT, identifier=True)
    for raw, (code, value, detail) in zip(raws, got, strict=True):
        ref = ids.check_id(raw, TODAY)
        assert (code, value) == (ref.code, ref.value), raw
        if code in ("id-legacy-converted", "id-date-invalid"):
            assert detail == ref.detail, raw
    valid = [ids.check_id(r, TODAY).value for r in raws]
    valid = [v for v in valid if v is not None]
    for v, (sex, birth, kind) in zip(valid, run_sql(db, valid, ID_DERIVED, identifier=True), strict=True):
        assert (sex, birth, kind) == (ids.id_sex(v), ids.id_birth_date(v), ids.id_type(v)), v


ID_EDGES = [
    "11010519491231002X",
    "11010519491231002x",
    "440524188001010014",
    "360426199101010071",
    "120103198806018241",
    "410102199003071230",
    "41010219440502002X",
    "110105194912310021",
    "410102194502290013",
    "110105194902300020",
    "110105491231002",
    "110105490230002",
    "４１０１０２１９９００３０７１２３０",
    "4.10102E+17",
    "4.10102e17",
    "410102199003071232.0",
    "410102199003071232.",
    "410102.5",
    "1E+5",
    "'410102199003071230",
    "410102 19900307 1230",
    "410102-19900307-1230",
    "4101021990030712３0",
    "41010219900307",
    "4101021990030712300",
    "810000199001010017",
    "910000199001010013",
    "410102299901010011",
    "410102179912310016",
    "41010220261126001X",
    "无",
    "",
    None,
    "X",
    "XXXXXXXXXXXXXXXXXX",
]


def test_id_edges(sqldb):
    assert_ids_agree(sqldb, ID_EDGES)


def _id18(region: int, born: date, seq: int) -> str:
    first17 = f"{region:06d}{born:%Y%m%d}{seq:03d}"
    return first17 + ids.id_check_char(first17)


ids18 = st.builds(
    _id18,
    st.integers(110000, 999999),
    st.dates(date(1800, 1, 1), date(2030, 12, 31)),
    st.integers(0, 999),
)


@st.composite
def mutated_id(draw):
    text = draw(ids18)
    kind = draw(
        st.sampled_from(
            ["valid", "digit", "lower", "fullwidth", "spaces", "sci", "float", "id15", "cut", "x"]
        )
    )
    if kind == "digit":
        pos = draw(st.integers(0, 17))
        text = text[:pos] + str(draw(st.integers(0, 9))) + text[pos + 1 :]
    elif kind == "lower":
        text = text[:17] + "x"
    elif kind == "fullwidth":
        text = text.translate(FULL_WIDTH)
    elif kind == "spaces":
        pos = draw(st.integers(0, 18))
        text = text[:pos] + draw(st.sampled_from([" ", "\u3000", "-", "\u200b", "\t"])) + text[pos:]
    elif kind == "sci":
        text = f"{int(text[:17]) / 10**16:.5f}" + draw(st.sampled_from(["E+17", "e+17", "E17"]))
    elif kind == "float":
        text = text[:17] + "2.0"
    elif kind == "id15":
        text = text[:6] + text[8:14] + text[14:17]
    elif kind == "cut":
        text = text[: draw(st.integers(0, 17))]
    elif kind == "x":
        pos = draw(st.integers(0, 17))
        text = text[:pos] + "X" + text[pos + 1 :]
    return text


@SETTINGS
@given(st.lists(mutated_id(), min_size=1, max_size=40))
def test_ids_generated(sqldb, raws):
    assert_ids_agree(sqldb, raws)


# -- 统一社会信用代码 ----------------------------------------------------------------------------------
def assert_uscc_agree(db: Database, raws: list[str | None]) -> None:
    got = run_sql(db, raws, "hub_uscc_code(c)", identifier=True)
    assert [g[0] for g in got] == [uscc.check_uscc(r).code for r in raws], raws


USCC_EDGES = [
    "91350100M000100Y43",
    "91110108551385082Q",
    "91110000600037341L",
    "92410102L12345674K",
    "N2410102500123453R",
    "n2410102500123453r",
    "91110108551385082A",
    "9111010855138508 2Q",
    "91110108551385082",
    "91110108551385082QQ",
    "I1110108551385082Q",
    "９１１１０１０８５５１３８５０８２Ｑ",
    None,
    "",
]


def test_uscc_edges(sqldb):
    assert_uscc_agree(sqldb, USCC_EDGES)


@st.composite
def mutated_uscc(draw):
    first17 = draw(st.sampled_from(["9", "N", "5", "1"])) + draw(
        st.text(alphabet=uscc.ALPHABET, min_size=16, max_size=16)
    )
    text = first17 + uscc.uscc_check_char(first17)
    kind = draw(st.sampled_from(["valid", "char", "lower", "bad", "length"]))
    pos = draw(st.integers(0, 17))
    if kind == "char":
        text = text[:pos] + draw(st.sampled_from(uscc.ALPHABET)) + text[pos + 1 :]
    elif kind == "lower":
        text = text.lower()
    elif kind == "bad":
        text = text[:pos] + draw(st.sampled_from("IOSVZ年")) + text[pos + 1 :]
    elif kind == "length":
        text = text[:pos]
    return text


@SETTINGS
@given(st.lists(mutated_uscc(), min_size=1, max_size=40))
def test_uscc_generated(sqldb, raws):
    assert_uscc_agree(sqldb, raws)


# -- dates --------------------------------------------------------------------------------------------
def assert_dates_agree(db: Database, raws: list[str | None], epoch_1904: bool = False) -> None:
    flag = "true" if epoch_1904 else "false"
    got = run_sql(
        db,
        raws,
        f"hub_date_value(hub_date_prep(c), {flag}), hub_date_precision(hub_date_prep(c))",
        identifier=False,
    )
    for raw, (value, precision) in zip(raws, got, strict=True):
        ref_value, ref_precision = dates.parse_date(raw, epoch_1904=epoch_1904)
        assert value == ref_value, raw
        if ref_value is not None:
            assert precision == ref_precision, raw


DATE_EDGES = [
    "2024-05-01",
    "2024/5/1",
    "2024.5.1",
    "2024年5月1日",
    "2024 年 5 月 1 日",
    "20240501",
    "1989年07月",
    "1989.7",
    "198907",
    "32143",
    "32143.75",
    "45000",
    "1989",
    "89.7.1",
    "7/1/89",
    "2024-02-30",
    "2023-02-29",
    "2024-13-01",
    "1799-12-31",
    "2200-01-01",
    "2024-05-01 10:30",
    "2024-05-01T10:30:00",
    "2024-5-1 0:30",
    "2024-05-01 10:30:00.5",
    "2024年5月",
    "2024年5月1",
    "2024-05-",
    "2024--05-01",
    "一九九零",
    "０２０２４",
    "2024\x1c-05-01",
    "2024-05-01\u1680",
    "\u16802024-05-01 10:30",
    None,
    "",
    "无",
]


@pytest.mark.parametrize("epoch_1904", [False, True])
def test_date_edges(sqldb, epoch_1904):
    assert_dates_agree(sqldb, DATE_EDGES, epoch_1904)


@st.composite
def written_date(draw):
    d = draw(st.dates(date(1790, 1, 1), date(2210, 12, 31)))
    y, m, dd = d.year, d.month, d.day
    forms = [
        f"{y}-{m:02d}-{dd:02d}",
        f"{y}/{m}/{dd}",
        f"{y}.{m}.{dd}",
        f"{y}年{m}月{dd}日",
        f"{y} 年 {m} 月 {dd} 日",
        f"{y}{m:02d}{dd:02d}",
        f"{y}年{m:02d}月",
        f"{y}.{m}",
        f"{y}{m:02d}",
        f"{y % 100}.{m}.{dd}",
        f"{m}/{dd}/{y % 100}",
        f"{y}-{m}-{dd} {draw(st.integers(0, 23))}:{draw(st.integers(0, 59)):02d}",
        f"{y}-{m:02d}-{dd:02d}T08:00:00",
        str((d - date(1899, 12, 30)).days),
        f"{(d - date(1899, 12, 30)).days}.{draw(st.integers(0, 99))}",
        f"{y}年{m}月{dd}日".translate(FULL_WIDTH),
    ]
    return draw(st.sampled_from(forms))


date_noise = st.text(alphabet=st.sampled_from(list("0123456789-/.年月日 :T") + ODD_SPACES), max_size=16)


@SETTINGS
@given(st.lists(st.one_of(written_date(), date_noise), min_size=1, max_size=40), st.booleans())
def test_dates_generated(sqldb, raws, epoch_1904):
    assert_dates_agree(sqldb, raws, epoch_1904)


# -- phones -------------------------------------------------------------------------------------------
def assert_phones_agree(db: Database, raws: list[str | None]) -> None:
    got = run_sql(db, raws, "hub_phone_parts(c), hub_phone_valid(hub_phone_parts(c))", identifier=False)
    for raw, (parts, ok) in zip(raws, got, strict=True):
        ref_parts, ref_ok = phones.normalise_phones(raw)
        # an empty cell is NULL in SQL (phone__v NULL, the check guarded by `phone IS NOT NULL`)
        assert (parts or [], ok if parts is not None else True) == (ref_parts, ref_ok), raw


PHONE_EDGES = [
    "13800138000",
    "138 0013 8000",
    "138-0013-8000",
    "+86 138 0013 8000",
    "+8613800138000",
    "8613800138000",
    "86138001380",
    "(0371)66668888",
    "0371-6666 8888",
    "138-0013-8000/0371-6666 8888",
    "13800138000、13900139000",
    "13800138000，13900139000",
    "13800138000；",
    "12345",
    "1380013800",
    "无",
    "/",
    "暂无",
    "——",
    "()",
    "[]-",
    "1380013800０",
    "+86",
    "86",
    "010-12345678",
    "0123456789012",
    "１３８００１３８０００",
    None,
    "",
]


def test_phone_edges(sqldb):
    assert_phones_agree(sqldb, PHONE_EDGES)


@st.composite
def written_phone(draw):
    def one() -> str:
        number = draw(
            st.one_of(
                st.from_regex(r"1[0-9]\d{9}", fullmatch=True),
                st.from_regex(r"0\d{8,12}", fullmatch=True),
                st.from_regex(r"\d{1,13}", fullmatch=True),
            )
        )
        prefix = draw(st.sampled_from(["", "", "+86", "86", "+86 ", "(86)"]))
        deco = draw(st.sampled_from(["", " ", "-", "(", ")", "[", "]"]))
        pos = draw(st.integers(0, len(number)))
        return prefix + number[:pos] + deco + number[pos:]

    seps = draw(st.lists(st.sampled_from(["/", "、", ",", ";", "，", "；", " / "]), max_size=2))
    text = one()
    for sep in seps:
        text += sep + one()
    return text


@SETTINGS
@given(
    st.lists(
        st.one_of(written_phone(), st.sampled_from(sorted(phones.PHONE_PLACEHOLDERS))),
        min_size=1,
        max_size=40,
    )
)
def test_phones_generated(sqldb, raws):
    assert_phones_agree(sqldb, raws)


# -- numbers ------------------------------------------------------------------------------------------
def assert_numbers_agree(db: Database, raws: list[str | None]) -> None:
    got = run_sql(db, raws, "hub_number(hub_number_text(c)), c IS NULL", identifier=False)
    for raw, (value, empty) in zip(raws, got, strict=True):
        ref_value, ref_ok = numbers.parse_number(raw)
        assert (empty or value is not None) == ref_ok, raw
        assert value == ref_value, raw


NUMBER_EDGES = [
    "600",
    "1,200元",
    "600元/月",
    "3.2万",
    "3人",
    "2户",
    "5口",
    "¥1200.50",
    "￥ 1 200",
    "1200.",
    ".5",
    "-5",
    "1e3",
    "3.2万元",
    "万",
    "1.5万/月",
    "１２００",
    "600/月",
    "每月600",
    "12.345678",
    None,
    "",
    "无",
    "abc",
]


def test_number_edges(sqldb):
    assert_numbers_agree(sqldb, NUMBER_EDGES)


@SETTINGS
@given(
    st.lists(
        st.builds(
            lambda n, unit, comma: (f"{n:,}" if comma else str(n)) + unit,
            st.one_of(
                st.integers(0, 10**12),
                st.decimals(0, 10**9, places=2, allow_nan=False, allow_infinity=False),
            ),
            st.sampled_from(["", "元", "万", "人", "元/月", "/月", "户", "口", "万元", "x"]),
            st.booleans(),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_numbers_generated(sqldb, raws):
    assert_numbers_agree(sqldb, raws)


def test_age_matches_python(sqldb):
    births = [date(1916, 2, 29), date(1916, 11, 25), date(1916, 11, 26), date(2000, 2, 29), date(1900, 1, 1)]
    refs = [date(2026, 11, 25), date(2027, 2, 28), date(2028, 2, 29), date(2027, 3, 1)]
    pairs = [(b, r) for b in births for r in refs] + [
        (date(1950, 1, 1) + timedelta(days=k * 97), TODAY) for k in range(300)
    ]
    got = sqldb.rows(
        "SELECT hub_age(b, r) FROM (SELECT unnest(?::DATE[]) AS b, unnest(?::DATE[]) AS r)",
        [[b for b, _ in pairs], [r for _, r in pairs]],
    )
    assert [g[0] for g in got] == [dates.age_on(b, r) for b, r in pairs]


def test_comparisons_can_fail(sqldb):
    """The harness itself detects a divergence (guards against a comparison that always passes)."""
    with pytest.raises(AssertionError):
        got = run_sql(sqldb, ["110105194912310021"], "'id-format' AS code, NULL, NULL", identifier=True)
        assert got[0][0] == ids.check_id("110105194912310021", TODAY).code
    assert Decimal("1") == numbers.parse_number("1")[0]


def test_whitespace_set_is_pythons():
    """The date macros delete exactly what Python's ``\\s`` matches (dates.prepare): the set written
    out in hub.validate.sql is every character ``str.isspace`` accepts in this Python."""
    from hub.validate.sql import _WS

    assert "".join(chr(c) for c in range(0x110000) if chr(c).isspace()) == _WS
