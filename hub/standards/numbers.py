"""Numbers as clerks write them: ``1,200元``, ``600元/月``, ``3.2万`` (= 32000), ``3人``."""

from __future__ import annotations

import re
from decimal import Decimal

from hub.standards.text import clean_text

#: Units and decorations removed before parsing (mirrored in SQL by hub.validate.sql).
UNIT_RE = re.compile(r"[,\s¥￥]|元/月|/月|每月|元|人|户|口", re.ASCII)
NUMBER_RE = re.compile(r"^\d+(\.\d+)?$", re.ASCII)


def parse_number(raw: str | None) -> tuple[Decimal | None, bool]:
    """(value, ok). Empty → (None, True); garbage → (None, False); ``万`` multiplies by 10000."""
    text = clean_text(raw)
    if text is None:
        return None, True
    text = UNIT_RE.sub("", text)
    scale = 1
    if text.endswith("万"):
        text, scale = text[:-1], 10000
    if not NUMBER_RE.match(text):
        return None, False
    return Decimal(text) * scale, True
