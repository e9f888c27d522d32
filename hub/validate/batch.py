"""The cleaned batch the SQL rules (and the great-expectations suite) run on.

DuckDB has no NFKC, so text is cleaned here with vectorised pyarrow kernels, exactly as
:func:`hub.standards.text.clean_text` / :func:`hub.standards.ids.clean_id_text` do one cell at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.standards.ids import ID_STRIP_CLASS
from hub.standards.text import PLACEHOLDERS, SPACE_CLASS, ZERO_WIDTH

if TYPE_CHECKING:
    import pyarrow as pa

    from hub.ingest.types import StagedSheet
    from hub.model import Schema

#: Field types cleaned as identifiers (no spaces or hyphens anywhere, ASCII upper case).
ID_LIKE = frozenset({"id_number", "uscc", "disability_cert"})


def clean_array(values: pa.ChunkedArray | pa.Array, *, identifier: bool) -> pa.ChunkedArray | pa.Array:
    """Vectorised :func:`clean_text` (``identifier=False``) or :func:`clean_id_text` (``True``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = values.cast(pa.string()) if values.type != pa.string() else values
    arr = pc.utf8_normalize(arr, "NFKC")
    arr = pc.replace_substring_regex(arr, f"[{ZERO_WIDTH}]", "")
    if identifier:
        arr = pc.replace_substring_regex(arr, ID_STRIP_CLASS, "")
        arr = pc.replace_substring_regex(arr, "^'+", "")
        arr = pc.ascii_upper(arr)
    else:
        arr = pc.replace_substring_regex(arr, f"{SPACE_CLASS}+", " ")
        arr = pc.utf8_trim(arr, " ")
    empty = pc.or_kleene(pc.equal(arr, ""), pc.is_in(arr, value_set=pa.array(sorted(PLACEHOLDERS))))
    return pc.if_else(empty, pa.scalar(None, pa.string()), arr)


def present_fields(sheet: StagedSheet, schema: Schema) -> list[str]:
    """Canonical fields that have a column in the sheet's data, in schema order."""
    names = set(sheet.data.column_names)
    return [f for f in schema.fields if f in names]


def clean_batch(sheet: StagedSheet, schema: Schema, *, with_raw: bool, all_fields: bool) -> pa.Table:
    """``_row`` (int32) + per canonical field the cleaned text ``<field>``; with ``with_raw`` also
    ``<field>__raw`` (the cell as written); with ``all_fields`` absent fields are NULL columns."""
    import pyarrow as pa

    data = sheet.data
    n = data.num_rows
    arrays: list[pa.Array | pa.ChunkedArray] = [data.column("_row").cast(pa.int32())]
    names = ["_row"]
    present = set(present_fields(sheet, schema))
    for field, spec in schema.fields.items():
        if field in present:
            raw = data.column(field)
            raw = raw.cast(pa.string()) if raw.type != pa.string() else raw
            arrays.append(clean_array(raw, identifier=spec.type in ID_LIKE))
            names.append(field)
            if with_raw:
                arrays.append(raw)
                names.append(f"{field}__raw")
        elif all_fields:
            arrays.append(pa.nulls(n, pa.string()))
            names.append(field)
            if with_raw:
                arrays.append(pa.nulls(n, pa.string()))
                names.append(f"{field}__raw")
    return pa.table(arrays, names=names)
