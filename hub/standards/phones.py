"""Phone numbers (``standards.md``): mobile ``^1[3-9]\\d{9}$`` or fixed line ``0`` + area code +
7–8 digits; several numbers per cell split on ``/ 、 , ； ;``. A bad phone is a warning only."""

from __future__ import annotations

import re

from hub.standards.text import clean_text

SPLIT_RE = re.compile(r"[/、,;]", re.ASCII)
STRIP_RE = re.compile(r"[\s()\[\]\-]", re.ASCII)
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
FIXED_RE = re.compile(r"^0\d{9,11}$", re.ASCII)
PHONE_PLACEHOLDERS = frozenset({"无", "/", "—", "-", "暂无", "不详", "——", "--"})


def normalise_part(part: str) -> str:
    text = STRIP_RE.sub("", part)
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    return text


def is_valid_phone(number: str) -> bool:
    return bool(MOBILE_RE.match(number) or FIXED_RE.match(number))


def normalise_phones(raw: str | None) -> tuple[list[str], bool]:
    """``'138-0013-8000/0371-6666 8888'`` → (['13800138000', '037166668888'], True).
    Empty cells and placeholders → ([], True). Parts are kept (normalised) even when invalid."""
    text = clean_text(raw)  # NFKC folds '，' '；' '（' to ASCII
    if text is None or text in PHONE_PLACEHOLDERS:
        return [], True
    parts = [p for p in (normalise_part(x) for x in SPLIT_RE.split(text)) if p]
    if not parts:
        return [], True
    return parts, all(is_valid_phone(p) for p in parts)
