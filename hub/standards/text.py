"""Cell text cleaning shared by every stage (and mirrored in the vectorised cleaning of
:mod:`hub.validate.batch`, which must agree with it)."""

from __future__ import annotations

import re
import unicodedata

#: Characters NFKC keeps but a clerk never means: zero-width space/joiners and the BOM.
ZERO_WIDTH = "\u200b\u200c\u200d\ufeff"
#: Whitespace folded to one ASCII space (after NFKC, U+3000 and NBSP are already spaces).
SPACE_CLASS = "[ \t\n\r\f\v\u00a0\u3000\u2028\u2029\u0085]"
#: Hyphen-like characters removed from identifiers.
HYPHENS = "\\-\u2010\u2011\u2012\u2013\u2014"
#: Cell contents that mean "nothing here".
PLACEHOLDERS: frozenset[str] = frozenset({"无", "/", "—", "-", "——", "--", "暂无", "不详"})

_ZW_RE = re.compile(f"[{ZERO_WIDTH}]")
_SPACE_RE = re.compile(f"{SPACE_CLASS}+")
_NOTE_RE = re.compile(r"^(.*?)\s*\(([^()]*)\)\s*$")


def clean_text(raw: str | None) -> str | None:
    """NFKC, drop zero-width characters, fold whitespace runs to one space, trim; placeholders and
    empty cells become ``None``."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", str(raw))
    text = _ZW_RE.sub("", text)
    text = _SPACE_RE.sub(" ", text).strip(" ")
    if not text or text in PLACEHOLDERS:
        return None
    return text


def split_name_note(name: str) -> tuple[str, str | None]:
    """``'张三（已故）'`` → ``('张三', '已故')``; a name without a bracketed note is returned as is.
    Full-width brackets are folded by NFKC first."""
    text = unicodedata.normalize("NFKC", name).strip()
    m = _NOTE_RE.match(text)
    if not m or not m.group(1).strip():
        return text, None
    note = m.group(2).strip()
    return m.group(1).strip(), note or None
