from datetime import date

import pytest

from hub.standards.dates import age_on, parse_date
from hub.standards.ids import (
    check_id,
    clean_id_text,
    convert_15_to_18,
    id_birth_date,
    id_check_char,
    id_sex,
    id_type,
    is_precision_lost,
)
from hub.standards.masking import mask_id, mask_mobile
from hub.standards.numbers import parse_number
from hub.standards.phones import normalise_phones
from hub.standards.text import clean_text, split_name_note
from hub.standards.uscc import business_type, check_uscc, uscc_check_char

TODAY = date(2026, 11, 25)
VALID_IDS = [
    "11010519491231002X",
    "440524188001010014",
    "360426199101010071",
    "120103198806018241",
    "410102199003071230",
    "41010219440502002X",
]


@pytest.mark.parametrize("value", VALID_IDS)
def test_valid_ids(value):
    assert check_id(value, TODAY) == check_id(value, TODAY).__class__(value, None, None)
    assert id_check_char(value[:17]) == value[17]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("110105194912310021", "id-checksum"),
        ("410102194502290013", "id-date-invalid"),
        ("110105194902300020", "id-date-invalid"),
        ("4.10102E+17", "id-precision-lost"),
        ("3.30727e17", "id-precision-lost"),
        ("410102199003071232.0", "id-precision-lost"),
        ("41010219900307123", "id-format"),
        ("41010219900307123Y", "id-format"),
        ("410102209003071230", "id-date-invalid"),
    ],
)
def test_invalid_ids(value, code):
    assert check_id(value, TODAY).code == code
    assert check_id(value, TODAY).value is None


def test_legacy_and_cleaning():
    assert convert_15_to_18("110105491231002") == "11010519491231002X"
    r = check_id("110105491231002", TODAY)
    assert (r.value, r.code, r.detail) == ("11010519491231002X", "id-legacy-converted", "11010519491231002X")
    assert clean_id_text("'１１０１０５ 1949-1231\u3000002x\u200b") == "11010519491231002X"
    for p in ["无", "/", "-", "—", "暂无", "不详", "", "  "]:
        assert clean_id_text(p) is None and check_id(p, TODAY).code is None
    assert is_precision_lost("4.10102E+17") and not is_precision_lost("410102199003071230")


def test_id_parts():
    assert id_sex("11010519491231002X") == "2" and id_sex("360426199101010071") == "1"
    assert id_birth_date("11010519491231002X") == date(1949, 12, 31)
    assert id_type("11010519491231002X") == "resident"
    assert (
        id_type("810000199001010012") == "hk_mo_tw" and id_type("910000199001010012") == "foreign_permanent"
    )


@pytest.mark.parametrize(
    "value",
    [
        "91350100M000100Y43",
        "91110108551385082Q",
        "91110000600037341L",
        "92410102L12345674K",
        "N2410102500123453R",
    ],
)
def test_valid_uscc(value):
    assert check_uscc(value).code is None and uscc_check_char(value[:17]) == value[17]


def test_invalid_uscc_and_type():
    assert check_uscc("91110108551385082A").code == "uscc-checksum"
    assert check_uscc("9111010855138508").code == "uscc-format"
    assert check_uscc("91110108551385082I").code == "uscc-format"
    assert business_type("92410102L12345674K") == "92" and business_type("N2410102500123453R") == "N2"
    assert business_type("99410102L12345674K") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-05-01", (date(2024, 5, 1), "day")),
        ("2024/5/1", (date(2024, 5, 1), "day")),
        ("2024.5.1", (date(2024, 5, 1), "day")),
        ("2024年5月1日", (date(2024, 5, 1), "day")),
        ("2024 年 5 月 1 日", (date(2024, 5, 1), "day")),
        ("20240501", (date(2024, 5, 1), "day")),
        ("32874", (date(1990, 1, 1), "day")),
        ("1989年07月", (date(1989, 7, 1), "month")),
        ("1989.7", (date(1989, 7, 1), "month")),
        ("2024-05-01 00:00:00", (date(2024, 5, 1), "day")),
        ("89.7.1", (None, None)),
        ("7/1/89", (None, None)),
        ("2023-02-29", (None, None)),
        ("无", (None, None)),
        ("abc", (None, None)),
    ],
)
def test_dates(raw, expected):
    assert parse_date(raw) == expected


def test_date_1904_and_age():
    assert parse_date("32874", epoch_1904=True) == (date(1994, 1, 2), "day")
    assert age_on(date(2000, 2, 29), date(2026, 2, 28)) == 25
    assert age_on(date(2000, 2, 29), date(2026, 3, 1)) == 26
    assert age_on(date(2000, 2, 29), date(2028, 2, 29)) == 28


def test_phones():
    assert normalise_phones("+86 138-0013-8000/0371-66668888") == (["13800138000", "037166668888"], True)
    assert normalise_phones("13800138000、(010)12345678") == (["13800138000", "01012345678"], True)
    assert normalise_phones("8613800138000；13900139000") == (["13800138000", "13900139000"], True)
    assert normalise_phones("无") == ([], True) and normalise_phones("/") == ([], True)
    assert normalise_phones("12800138000") == (["12800138000"], False)


def test_masking_text_numbers():
    assert (
        mask_id("11010519491231002X") == "110105********002X" and mask_mobile("13800138000") == "138****8000"
    )
    assert (
        clean_text("\u200b 张\u3000三\t\n") == "张 三"
        and clean_text("暂无") is None
        and clean_text("  ") is None
    )
    assert split_name_note("张三（已故）") == ("张三", "已故") and split_name_note("李四") == ("李四", None)
    assert (
        parse_number("1,200元")[0] == 1200
        and parse_number("600元/月")[0] == 600
        and parse_number("3.2万")[0] == 32000
    )
    assert parse_number("abc") == (None, False) and parse_number(None) == (None, True)
