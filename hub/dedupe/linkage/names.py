"""Per-name keys for Chinese name comparison, computed once per DISTINCT name.

* ``name_s``: the name converted traditional → simplified (opencc ``t2s``, offline), so 張偉 = 张伟.
* ``py_key``: the tone-less primary reading (pypinyin), used for blocking: 张伟 / 张玮 → ``zhang wei``.
* ``py_set``: every tone-less reading of the whole name (pypinyin ``heteronym=True``; the product over
  characters, capped), so a surname pypinyin reads wrongly (单 as dan, not shan) still meets 善 (shan).
  Two names "sound the same" when their sets intersect.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from hub.store.db import Database

#: Cap on the readings kept per name (a 4-character name of heteronyms would otherwise explode).
MAX_READINGS = 32

_converter: Any = None


def _t2s(text: str) -> str:
    global _converter
    if _converter is None:
        import opencc

        _converter = opencc.OpenCC("t2s")
    return str(_converter.convert(text))


def name_key(name: str) -> tuple[str, str, list[str]]:
    """``(name_s, py_key, py_set)`` of one name."""
    from pypinyin import Style, lazy_pinyin, pinyin

    simple = _t2s(name)
    primary = " ".join(lazy_pinyin(simple, style=Style.NORMAL, errors="default"))
    per_char = pinyin(simple, style=Style.NORMAL, heteronym=True, errors="default")
    readings: list[str] = []
    for combo in itertools.product(*per_char):
        readings.append(" ".join(combo))
        if len(readings) >= MAX_READINGS:
            break
    if primary not in readings:
        readings.append(primary)
    return simple, primary, sorted(set(readings))


def name_key_table(names: Iterable[str | None]) -> pa.Table:
    """Arrow table ``(name, name_s, py_key, py_set)``: one row per distinct non-empty name."""
    import pyarrow as pa

    distinct = sorted({n for n in names if n})
    keys = [name_key(n) for n in distinct]
    return pa.table(
        {
            "name": pa.array(distinct, pa.string()),
            "name_s": pa.array([k[0] for k in keys], pa.string()),
            "py_key": pa.array([k[1] for k in keys], pa.string()),
            "py_set": pa.array([k[2] for k in keys], pa.list_(pa.string())),
        }
    )


def stored_name_keys(db: Database, names: Iterable[str | None]) -> pa.Table:
    """:func:`name_key_table` of ``names``, computing only the names the store has not seen
    (``hub_name_keys``): the rest are read back. Loading pypinyin and OpenCC alone takes seconds,
    and a daily upload brings a handful of new names."""
    import pyarrow as pa

    distinct = sorted({n for n in names if n})
    db.register("__nk_want", pa.table({"name": pa.array(distinct, pa.string())}))
    try:
        missing = [r[0] for r in db.rows("SELECT name FROM __nk_want ANTI JOIN hub_name_keys USING (name)")]
        if missing:
            db.register("__nk_new", name_key_table(missing))
            try:
                db.execute(
                    "INSERT OR IGNORE INTO hub_name_keys SELECT name, name_s, py_key, py_set FROM __nk_new"
                )
            finally:
                db.unregister("__nk_new")
        return db.arrow("SELECT k.* FROM hub_name_keys k SEMI JOIN __nk_want USING (name) ORDER BY name")
    finally:
        db.unregister("__nk_want")
