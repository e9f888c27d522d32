"""The cleaned batch the SQL rules (and the great-expectations suite) run on.

DuckDB has no NFKC, so text is cleaned here with vectorised pyarrow kernels, exactly as
:func:`hub.standards.text.clean_text` / :func:`hub.standards.ids.clean_id_text` do one cell at a time.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
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
    if pc.all(pc.string_is_ascii(arr)).as_py() is not True:  # NFKC and zero-width: non-ASCII only
        arr = pc.utf8_normalize(arr, "NFKC")
        arr = pc.replace_substring_regex(arr, f"[{ZERO_WIDTH}]", "")
    if identifier:
        arr = pc.replace_substring_regex(arr, ID_STRIP_CLASS, "")
        arr = pc.utf8_ltrim(arr, "'")
        arr = pc.ascii_upper(arr)
    else:
        arr = pc.replace_substring_regex(arr, f"{SPACE_CLASS}+", " ")
        arr = pc.utf8_trim(arr, " ")
    empty = pc.or_kleene(pc.equal(arr, ""), pc.is_in(arr, value_set=pa.array(sorted(PLACEHOLDERS))))
    return pc.if_else(empty, pa.scalar(None, pa.string()), arr)


def _clean_column(values: pa.ChunkedArray | pa.Array, *, identifier: bool) -> pa.ChunkedArray | pa.Array:
    """:func:`clean_array`, run once per distinct value when a column repeats its values (code
    columns, villages, statuses): the dictionary is cleaned and taken back to every row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(values)
    if n >= 4096:
        sample = values.slice(0, 4096)
        if pc.count_distinct(sample).as_py() * 4 < len(sample):
            encoded = pc.dictionary_encode(values)
            chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
            out = [pc.take(clean_array(c.dictionary, identifier=identifier), c.indices) for c in chunks]
            return pa.chunked_array(out, pa.string())
    return clean_array(values, identifier=identifier)


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
    raws = {}
    for field in schema.fields:
        if field in present:
            raw = data.column(field)
            raws[field] = raw.cast(pa.string()) if raw.type != pa.string() else raw
    # pyarrow kernels release the GIL: clean two columns at a time (the hub runs on 2 cores)
    with ThreadPoolExecutor(max_workers=2) as pool:
        cleaned = dict(
            zip(
                raws,
                pool.map(lambda f: _clean_column(raws[f], identifier=schema.fields[f].type in ID_LIKE), raws),
                strict=True,
            )
        )
    for field in schema.fields:
        if field in present:
            raw = raws[field]
            arrays.append(cleaned[field])
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
