"""Header text as real forms write it, folded to the words that name the concept.

``normalise_header('S2.姓　名：')`` → ``'姓名'``; ``'總人數\n(人)'`` → ``'总人数'`` (note ``'人'``).
Steps, in order: NFKC (full-width letters, digits and brackets), traditional → simplified (OpenCC
``t2s``, offline), line breaks and every kind of space removed (letter spacing ``年　龄``), required
markers (``*``, ``※``), numbering prefixes of census and survey forms (``S2.``, ``R5、``, ``H1 ``,
``一、``, ``（3）``, ``①``, ``1.``, ``第3栏``), trailing colons, and bracketed notes and units (kept
apart: ``月保障金额（元）`` → ``月保障金额`` + ``元``), and the English gloss of a bilingual form
(``中文姓名⏎Chinese name`` → ``中文姓名`` + ``chinesename``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACE = re.compile(r"[\s\u00a0\u3000\u200b\u200c\u200d\ufeff]+|\\n")
_MARKS = re.compile(r"[*※＊★☆▲△●○◆◇■□√]")
_PREFIX = re.compile(
    r"^(?:"
    r"第\d{1,3}[栏列项]"  # 第3栏
    r"|[A-Za-z]{1,2}\d{1,3}(?:[.\-_]\d{1,3})*[.、:)\-_]?"  # S2. R5、 H1 A1-2 (census items)
    r"|\d{1,3}(?:[.\-]\d{1,3})*[.、:)]"  # 1.  2、 3.1.
    r"|\(?[一二三四五六七八九十]{1,3}[)、.]"  # 一、 (三)
    r"|\(\d{1,3}\)"  # (3)
    r")"
)
_CIRCLED = re.compile(r"^[\u2460-\u24ff\u2776-\u2793]")  # ① ⑴ ⒈ ❶
_BRACKETS = re.compile(r"\(([^()]*)\)|\[([^\]]*)\]|【([^】]*)】|<([^>]*)>")
_COLON = re.compile(r"[:：]+$")
# An English gloss after the Chinese words of a bilingual form (中文姓名 Chinese name, 出生日期date of
# birth, 国籍/地区nationality/region): a note, like a bracketed one.
_GLOSS = re.compile(r"(?<=[\u4e00-\u9fff)])[A-Za-z][A-Za-z/.,'&\-]+$")


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def split_header(text: str) -> tuple[str, tuple[str, ...]]:
    """``(core, notes)``: the header's words with prefixes, spaces, marks and brackets removed, and
    the bracketed notes on their own. Empty core when the header is only a note or a number."""
    s = _CIRCLED.sub("", str(text).strip())  # before NFKC, which turns ① into 1
    s = unicodedata.normalize("NFKC", s)
    s = _SPACE.sub("", s)
    if any("\u4e00" <= ch <= "\u9fff" for ch in s):
        s = _t2s().convert(s)
    s = _MARKS.sub("", s)
    s = _COLON.sub("", s)
    prev = None
    while prev != s:  # 'S2.(1)姓名': prefixes can stack
        prev = s
        m = _PREFIX.match(s)
        if m and m.end() < len(s) and not s[m.end()].isdigit():
            s = s[m.end() :]
    gloss = _GLOSS.search(s)
    if gloss:
        s = _COLON.sub("", s[: gloss.start()])
    notes = tuple(next(g for g in m.groups() if g is not None) for m in _BRACKETS.finditer(s))
    if gloss:
        notes += (gloss.group(0),)
    core = _COLON.sub("", _BRACKETS.sub("", s)).strip("-_.、/")
    return core.lower(), tuple(n.lower() for n in notes if n)


def normalise_header(text: str) -> str:
    """The core words of a header cell (see :func:`split_header`)."""
    return split_header(text)[0]


def full_header(text: str) -> str:
    """The header folded like :func:`normalise_header` but with its bracketed notes kept, so that
    ``村（社区）`` and ``类别(城市/农村)`` still match a synonym written with its brackets."""
    core, notes = split_header(text)
    return core + "".join(f"({n})" for n in notes)
