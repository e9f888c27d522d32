"""Date parsing for every format clerks use (``standards.md``), with a precision ('day'|'month').

The SQL compiled by :mod:`hub.validate.sql` implements the same grammar and is tested against this:

1. clean (NFKC, no spaces); a trailing time ``HH:MM[:SS]`` after a day-precision date is dropped;
2. ``年``, ``月``, ``/``, ``.`` and ``-`` are all separators, a trailing ``日`` or separator goes;
3. ``YYYY-M-D`` and ``YYYYMMDD`` → day; ``YYYY-M`` and ``YYYYMM`` → month;
4. a 5-digit number (optionally with a fraction) is an Excel serial: ``1899-12-30 + n`` (1900
   system) or ``1904-01-01 + n`` (1904 system). Shorter numbers are not taken as serials: ``1989``
   is far more likely a bare year than 1905-06-11, and a bare year has no precision we keep;
5. anything else, including two-digit years (``89.7.1``, ``7/1/89``), is (None, None).
Years outside 1800–2199 are rejected.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from hub.standards.text import clean_text

MIN_YEAR, MAX_YEAR = 1800, 2199
EPOCH_1900 = date(1899, 12, 30)
EPOCH_1904 = date(1904, 1, 1)

_TIME_RE = re.compile(r"(?:T|\s)*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$", re.ASCII)
_SEP_RE = re.compile(r"[年月/.\-]", re.ASCII)
DAY_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$", re.ASCII)
DAY8_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$", re.ASCII)
MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$", re.ASCII)
MONTH6_RE = re.compile(r"^(\d{4})(\d{2})$", re.ASCII)
SERIAL_RE = re.compile(r"^(\d{5})(?:\.\d+)?$", re.ASCII)


def _make(y: str, m: str, d: str) -> date | None:
    year = int(y)
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return date(year, int(m), int(d))
    except ValueError:
        return None


def prepare(raw: str) -> str:
    """Steps 1–2 of the grammar: the canonical separator form, e.g. ``'2024 年 5 月 1 日'`` → ``'2024-5-1'``."""
    text = unicodedata.normalize("NFKC", raw)
    text = re.sub(r"\s+", "", _TIME_RE.sub("", text.strip())) if ":" in text else re.sub(r"\s+", "", text)
    text = _SEP_RE.sub("-", text)
    text = re.sub(r"日$", "", text)
    return text.rstrip("-")


def parse_date(raw: str | None, *, epoch_1904: bool = False) -> tuple[date | None, str | None]:
    cleaned = clean_text(raw)
    if cleaned is None:
        return None, None
    text = prepare(cleaned)
    for pattern, precision in ((DAY_RE, "day"), (DAY8_RE, "day"), (MONTH_RE, "month"), (MONTH6_RE, "month")):
        m = pattern.match(text)
        if m:
            value = _make(m.group(1), m.group(2), m.group(3) if precision == "day" else "1")
            return (value, precision) if value else (None, None)
    m = SERIAL_RE.match(text)
    if m:
        value = (EPOCH_1904 if epoch_1904 else EPOCH_1900) + timedelta(days=int(m.group(1)))
        return (value, "day") if MIN_YEAR <= value.year <= MAX_YEAR else (None, None)
    return None, None


def age_on(birth: date, ref: date) -> int:
    """周岁 on ``ref``: completed years. Someone born on 29 February reaches the birthday on
    1 March in a non-leap year (comparing (month, day) tuples: (2, 28) < (2, 29) ≤ (3, 1))."""
    return ref.year - birth.year - (1 if (ref.month, ref.day) < (birth.month, birth.day) else 0)
