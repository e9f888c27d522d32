"""公民身份号码 (GB 11643-1999) reference implementation; see docs in ``standards.md``.

The region code is deliberately NOT checked against a list of codes that existed in the birth
year: old codes stay valid forever (python-stdnum's ``cn.ric`` gets this wrong).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from hub.standards.text import HYPHENS, PLACEHOLDERS, SPACE_CLASS, ZERO_WIDTH

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
#: Birth years before this are treated as impossible (no issued number carries one).
MIN_YEAR = 1800

ID18_RE = re.compile(r"^\d{17}[\dX]$", re.ASCII)
ID15_RE = re.compile(r"^\d{15}$", re.ASCII)
#: A number Excel stored as a float: scientific notation or digits with a decimal point.
PRECISION_LOST_RE = re.compile(r"^\d+(\.\d+)?[eE]\+?\d+$|^\d{6,}\.\d*$", re.ASCII)
#: Characters removed anywhere in an identifier (same class as the vectorised cleaning).
ID_STRIP_CLASS = SPACE_CLASS[:-1] + ZERO_WIDTH + HYPHENS + "]"
_STRIP_RE = re.compile(ID_STRIP_CLASS)
_UPPER = {c: c - 32 for c in range(ord("a"), ord("z") + 1)}


@dataclass(frozen=True)
class IdCheck:
    value: str | None  # the normalised number (18 chars) when usable, else None
    code: str | None  # finding code, None when valid
    detail: str | None = None


def id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def clean_id_text(raw: str | None) -> str | None:
    """NFKC, strip a leading apostrophe, spaces, zero-width characters and hyphens; upper-case X.
    Placeholders and empty cells give ``None``."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", str(raw))
    text = _STRIP_RE.sub("", text).lstrip("'").translate(_UPPER)
    if not text or text in PLACEHOLDERS:
        return None
    return text


def is_precision_lost(raw: str) -> bool:
    text = clean_id_text(raw)
    return bool(text and PRECISION_LOST_RE.match(text))


def _date8(text: str) -> date | None:
    y, m, d = int(text[0:4]), int(text[4:6]), int(text[6:8])
    if y < MIN_YEAR:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def convert_15_to_18(id15: str) -> str:
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + id_check_char(first17)


def check_id(raw: str | None, today: date) -> IdCheck:
    """Order of checks: precision lost, 15-digit legacy, format, birth date, check character."""
    text = clean_id_text(raw)
    if text is None:
        return IdCheck(None, None, None)
    if PRECISION_LOST_RE.match(text):
        return IdCheck(None, "id-precision-lost", None)
    if ID15_RE.match(text):
        born = _date8("19" + text[6:12])
        if born is None or born > today:
            return IdCheck(None, "id-date-invalid", "19" + text[6:12])
        new = convert_15_to_18(text)
        return IdCheck(new, "id-legacy-converted", new)
    if not ID18_RE.match(text):
        return IdCheck(None, "id-format", None)
    born = _date8(text[6:14])
    if born is None or born > today:
        return IdCheck(None, "id-date-invalid", text[6:14])
    if id_check_char(text[:17]) != text[17]:
        return IdCheck(None, "id-checksum", None)
    return IdCheck(text, None, None)


def id_sex(id18: str) -> str:
    """GB/T 2261.1 code: '1' 男 when the 17th digit is odd, '2' 女 when even."""
    return "1" if int(id18[16]) % 2 else "2"


def id_birth_date(id18: str) -> date:
    return date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))


def id_type(id18: str) -> str:
    if id18[0] == "9":
        return "foreign_permanent"
    if id18[:2] in ("81", "82", "83"):
        return "hk_mo_tw"
    return "resident"
