"""Column recognition: which canonical field each column of a clerk's sheet holds.

``recognise(paths, data, schema, divisions) -> list[Column]`` scores every column against every field
from its header (:mod:`.headers`, after :mod:`.normalise`), a sample of its values (:mod:`.values`)
and its neighbours, and assigns one field per column over the whole sheet with a confidence
(:mod:`.assign`). Columns below :data:`~hub.ingest.types.SURE` are asked of the clerk; the answer is
kept per township and header layout (:mod:`.memory`) and wins the next time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from hub.ingest.columns.assign import ASK_FROM
from hub.ingest.columns.assign import recognise as _recognise
from hub.ingest.columns.headers import HeaderMatcher
from hub.ingest.columns.normalise import full_header, normalise_header
from hub.ingest.columns.values import field_detectors
from hub.ingest.types import twins_allowed

if TYPE_CHECKING:
    import pyarrow as pa

    from hub.ingest.divisions import Divisions
    from hub.ingest.types import Column
    from hub.model import Schema

__all__ = [
    "ASK_FROM",
    "HeaderMatcher",
    "apply_mapping",
    "describe",
    "layout_key",
    "normalise_header",
    "recognise",
]


def recognise(
    paths: list[tuple[int, list[str]]], data: pa.Table, schema: Schema, divisions: Divisions | None = None
) -> list[Column]:
    """One :class:`Column` per path, placed (or not) with a confidence and the evidence for it."""
    names = divisions.village_names() if divisions is not None else frozenset()
    return _recognise(paths, data, schema, HeaderMatcher.from_schema(schema), field_detectors(schema, names))


def layout_key(headers: Iterable[str]) -> str:
    """A short key of a header layout: its headers in order, normalised (letter spacing, numbering,
    traditional characters do not make another layout)."""
    text = "\x1f".join(full_header(h) for h in headers)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def apply_mapping(
    columns: list[Column], mapping: Mapping[str, str | None], source: str = "remembered"
) -> None:
    """Place ``columns`` as a confirmed mapping says (header → field, or None for a column that holds
    no field; headers compared normalised); columns it does not name keep the recogniser's guess."""
    folded = {full_header(h): f for h, f in mapping.items()}
    confirmed = [c for c in columns if full_header(c.header) in folded]
    for col in confirmed:
        col.field = col.guess = folded[full_header(col.header)]
        col.confidence, col.source = 1.0, source
        col.evidence = "按已确认的列映射" if source == "remembered" else "按本次确认的列映射"
    taken = {c.field for c in confirmed if c.field}
    seen: set[str] = set()
    for col in columns:  # one column per identity field: a confirmed one is taken from any other column
        if col.field and twins_allowed(col.field) and (col in confirmed or col.field not in taken):
            continue  # two columns of one other field are twins, merged left to right
        if col.field and (col.field in seen or (col not in confirmed and col.field in taken)):
            col.field = None
            col.evidence = (col.evidence + "；" if col.evidence else "") + "该字段已由另一列提供，此列不入库"
        elif col.field:
            seen.add(col.field)


def describe(col: Column, schema: Schema) -> dict[str, Any]:
    """A column and the hub's guess, as the clerk's column step, ``hub columns`` and ``--json`` show it."""
    label = schema.fields[col.field].label if col.field else None
    return {
        "col": col.letter(),
        "col_index": col.col_index,
        "header": col.header,
        "field": col.field,
        "label": label,
        "guess": col.guess,
        "guess_label": schema.fields[col.guess].label if col.guess else None,
        "held": col.held,
        "confidence": round(col.confidence, 3),
        "sure": col.sure,
        "source": col.source,
        "evidence": col.evidence,
        "samples": col.samples,
        "alternatives": [
            {"field": f, "label": schema.fields[f].label, "confidence": c}
            for f, c in col.alternatives
            if f in schema.fields
        ],
    }
