"""统一社会信用代码 (GB 32100-2015) reference implementation. N-prefixed codes (集体经济组织) are valid."""

from __future__ import annotations

import csv
import re
from functools import lru_cache

from hub.standards.ids import IdCheck, clean_id_text

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_RE = re.compile(f"^[{ALPHABET}]{{18}}$")


def uscc_check_char(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def check_uscc(raw: str | None) -> IdCheck:
    text = clean_id_text(raw)
    if text is None:
        return IdCheck(None, None, None)
    if not USCC_RE.match(text):
        return IdCheck(None, "uscc-format", None)
    if uscc_check_char(text[:17]) != text[17]:
        return IdCheck(None, "uscc-checksum", None)
    return IdCheck(text, None, None)


@lru_cache(maxsize=1)
def _business_types() -> frozenset[str]:
    from hub.paths import schemas_dir

    with (schemas_dir() / "codes" / "business_type.csv").open(encoding="utf-8", newline="") as fh:
        return frozenset(r["code"].strip() for r in csv.DictReader(fh))


def business_type(uscc: str) -> str | None:
    """The business_type code list entry of positions 1-2 (``'92'`` 个体工商户), None if unlisted."""
    prefix = uscc[:2].upper()
    return prefix if prefix in _business_types() else None
