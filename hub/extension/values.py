"""An admitted field's cells at ingest: cleaned as the model's own text is, a coded field's labels
turned into codes, and a value outside its code list a warning finding (the cell is not kept).

Vectorised over the sheet's columns (pyarrow kernels); no Python loop over rows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

    from hub.ingest.types import StagedSheet
    from hub.model import Schema

#: the finding of a coded admitted field whose cell is not in its list (schemas/findings.yaml)
CODE_UNKNOWN = "extension-code-unknown"
VALUE_COLUMNS = ("sheet", "row_no", "field_key", "value")
_FOLD = "[\\s\u200b\u200c\u200d\ufeff:：*＊]"


def _empty_values() -> pa.Table:
    import pyarrow as pa

    return pa.table(
        {
            "sheet": pa.array([], pa.string()),
            "row_no": pa.array([], pa.int32()),
            "field_key": pa.array([], pa.string()),
            "value": pa.array([], pa.string()),
        }
    )


def check_sheet(sheet: StagedSheet, schema: Schema, findings_schema: pa.Schema) -> tuple[pa.Table, pa.Table]:
    """(values, findings) of the admitted fields ``sheet`` has a column of: ``values`` has
    :data:`VALUE_COLUMNS` (non-empty cells only), ``findings`` the columns of ``hub_findings`` minus
    ``submission_id`` (``findings_schema``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from hub.validate.batch import clean_array

    present = [f for f in schema.extensions() if f in sheet.data.column_names]
    values, findings = [_empty_values()], [findings_schema.empty_table()]
    rows = sheet.data.column("_row").cast(pa.int32())
    for key in present:
        spec = schema.fields[key]
        raw = sheet.data.column(key)
        raw = raw.cast(pa.string()) if raw.type != pa.string() else raw
        value = clean_array(raw, identifier=False)
        if spec.type == "code" and spec.codelist:
            lookup = schema.codelists[spec.codelist].lookup()
            folded = pc.utf8_lower(pc.replace_substring_regex(value, _FOLD, ""))
            coded = pc.take(
                pa.array(list(lookup.values()), pa.string()), pc.index_in(folded, pa.array(list(lookup)))
            )
            bad = pc.and_(pc.is_valid(value), pc.is_null(coded))
            if pc.any(bad).as_py():
                findings.append(_unknown(sheet, spec.label, key, rows, raw, bad, schema, findings_schema))
            value = coded
        keep = pc.is_valid(value)
        n = int(pc.sum(keep).as_py() or 0)
        values.append(
            pa.table(
                {
                    "sheet": pa.array([sheet.sheet] * n, pa.string()),
                    "row_no": pc.filter(rows, keep),
                    "field_key": pa.array([key] * n, pa.string()),
                    "value": pc.filter(value, keep),
                }
            )
        )
    return pa.concat_tables(values), pa.concat_tables(findings)


def _unknown(
    sheet: StagedSheet,
    label: str,
    key: str,
    rows: pa.ChunkedArray | pa.Array,
    raw: pa.ChunkedArray | pa.Array,
    bad: pa.ChunkedArray | pa.Array,
    schema: Schema,
    findings_schema: pa.Schema,
) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    spec = schema.fields[key]
    column = sheet.header_of(key) or label
    allowed = "、".join(c.label for c in schema.codelists[spec.codelist or ""].codes)
    template = schema.findings[CODE_UNKNOWN].message.replace("{column}", column).replace("{detail}", allowed)
    head, _, tail = template.partition("{value}")
    written = pc.filter(raw, bad)
    n = len(written)
    message = pc.binary_join_element_wise(
        pa.array([head] * n, pa.string()), written, pa.array([tail] * n, pa.string()), ""
    )
    return pa.table(
        {
            "sheet": pa.array([sheet.sheet] * n, pa.string()),
            "row_no": pc.filter(rows, bad),
            "column_name": pa.array([column] * n, pa.string()),
            "field": pa.array([key] * n, pa.string()),
            "value": written,
            "code": pa.array([CODE_UNKNOWN] * n, pa.string()),
            "severity": pa.array([schema.findings[CODE_UNKNOWN].severity] * n, pa.string()),
            "message": message,
        }
    ).cast(findings_schema)
