"""Check characters of 公民身份号码 (GB 11643, ISO 7064 MOD 11-2) and 统一社会信用代码 (GB 32100).

Kept local to the synthetic-data package so the generators do not depend on ``hub.standards``.
"""

from __future__ import annotations

from datetime import date

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_check_char(body17: str) -> str:
    """The 18th character for the first 17 digits of an ID."""
    if len(body17) != 17 or not body17.isascii() or not body17.isdigit():
        raise ValueError(f"need 17 ASCII digits, got {body17!r}")
    return ID_CHECK[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True)) % 11]


def id_is_valid(value: str) -> bool:
    """18 characters, a real date not after today, and the right check character."""
    if len(value) != 18 or not value[:17].isascii() or not value[:17].isdigit():
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return born <= date.today() and id_check_char(value[:17]) == value[17]


def make_id(region: str, born: date, sequence: int) -> str:
    """An 18-character ID: 6-digit region, birth date, 3-digit sequence (odd 男, even 女), check."""
    body = f"{region}{born:%Y%m%d}{sequence:03d}"
    return body + id_check_char(body)


def id18_to_id15(value: str) -> str:
    """The legacy 15-digit form of an ID of someone born 1900-1999."""
    if value[6:8] != "19":
        raise ValueError(f"no 15-digit form for {value}")
    return value[:6] + value[8:17]


def uscc_check_char(body17: str) -> str:
    if len(body17) != 17 or any(c not in USCC_ALPHABET for c in body17):
        raise ValueError(f"need 17 USCC characters, got {body17!r}")
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_is_valid(value: str) -> bool:
    if len(value) != 18 or any(c not in USCC_ALPHABET for c in value):
        return False
    return uscc_check_char(value[:17]) == value[17]


def make_uscc(prefix2: str, region: str, org9: str) -> str:
    body = f"{prefix2}{region}{org9}"
    return body + uscc_check_char(body)
