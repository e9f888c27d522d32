"""Stage 2: validate a staged sheet cell by cell in one set-based DuckDB pass.

Public API: :func:`validate_sheet`, :class:`Validated`, :func:`catalogue`, and for the
great-expectations parity work :func:`rule_failures` and :func:`normalised_batch`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from hub.ingest.types import StagedSheet
    from hub.model import Schema
    from hub.store.db import Database

__all__ = ["Validated", "catalogue", "normalised_batch", "rule_failures", "validate_sheet"]


@dataclass
class Validated:
    """``rows``: the ``hub_rows`` columns minus ``submission_id`` (one row per data row, ordered by
    ``row_no``); ``findings``: the ``hub_findings`` columns minus ``submission_id``; ``extras``: the
    cells of fields report admission added (``hub_extra_values`` minus ``submission_id``), or None."""

    rows: pa.Table
    findings: pa.Table
    extras: pa.Table | None = None

    @property
    def accepted(self) -> int:
        import pyarrow.compute as pc

        return int(pc.sum(self.rows.column("accepted").cast("int64")).as_py() or 0)

    @property
    def rejected(self) -> int:
        return self.rows.num_rows - self.accepted


def validate_sheet(db: Database, sheet: StagedSheet, schema: Schema, today: date) -> Validated:
    """Normalise every field of ``sheet`` per standards.md and report every failing cell. The fields
    report admission added are checked apart (:func:`hub.extension.values.check_sheet`)."""
    import pyarrow as pa

    from hub.extension.values import check_sheet
    from hub.validate.engine import findings_sql, rows_sql, start

    run = start(db, sheet, schema.core(), today)
    try:
        rows = db.arrow(rows_sql(run))
        findings = db.arrow(
            "SELECT sheet, row_no, column_name, field, value, code, severity, message "
            f"FROM ({findings_sql(run)}) ORDER BY row_no, _ord"
        )
    finally:
        run.close()
    if not schema.extensions():
        return Validated(rows=rows, findings=findings)
    extras, more = check_sheet(sheet, schema, findings.schema)
    if more.num_rows:
        findings = pa.concat_tables([findings, more]).sort_by([("row_no", "ascending")])
    return Validated(rows=rows, findings=findings, extras=extras)


def rule_failures(db: Database, sheet: StagedSheet, schema: Schema, today: date) -> dict[str, set[int]]:
    """Finding code → the set of ``_row`` numbers failing it, for every code the sheet is checked
    for (codes with no failure map to an empty set). Same SQL as :func:`validate_sheet`."""
    from hub.validate.engine import findings_sql, start

    run = start(db, sheet, schema.core(), today)
    try:
        out: dict[str, set[int]] = {c.code: set() for c in run.plan.checks}
        for code, row_nos in db.rows(
            f"SELECT code, list(DISTINCT row_no) FROM ({findings_sql(run)}) GROUP BY code"
        ):
            out[code] = set(row_nos)
    finally:
        run.close()
    return out


def normalised_batch(db: Database, sheet: StagedSheet, schema: Schema, today: date) -> pa.Table:
    """The batch the SQL rules run on: ``_row`` (int32) and, for every canonical field the sheet has,
    a text column named ``<field>`` holding the CLEANED cell before any invalid value is nulled:
    NFKC, zero-width characters removed, placeholders (无 / — - 暂无 不详) and empty cells → null;
    identifier fields (id_number, head_id_number, uscc, disability_cert) as
    :func:`hub.standards.ids.clean_id_text` (no spaces/hyphens/leading apostrophe, upper-case X),
    all other fields as :func:`hub.standards.text.clean_text`. ``db`` and ``today`` are accepted
    for symmetry with :func:`rule_failures` (the cleaning does not depend on them)."""
    from hub.validate.batch import clean_batch

    del db, today
    return clean_batch(sheet, schema.core(), with_raw=False, all_fields=False)


def catalogue(schema: Schema) -> list[dict[str, Any]]:
    """The findings catalogue: ``[{code, severity, message}]`` in ``findings.yaml`` order."""
    return [
        {"code": code, "severity": spec.severity, "message": spec.message}
        for code, spec in schema.findings.items()
    ]
