"""Stage 2: validate a staged sheet cell by cell in one set-based DuckDB pass.

The pass reads the sheet, the schema (code lists, rules) and, of the store, only the columns of
``hub_rows`` and the township's villages. Given those as a :class:`Place`, it runs wherever the file
was read: in the Spark task that read it on an executor (:func:`validate_file`, on a DuckDB of that
worker's own), and the store takes the results as they are. On one machine the store runs it.

Public API: :func:`validate_sheet`, :func:`validate_file`, :class:`Place`, :class:`Validated`,
:func:`catalogue`, and for the great-expectations parity work :func:`rule_failures` and
:func:`normalised_batch`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from hub.ingest.types import StagedFile, StagedSheet
    from hub.model import Schema
    from hub.store.db import Database

__all__ = [
    "Place",
    "Validated",
    "catalogue",
    "normalised_batch",
    "rule_failures",
    "validate_file",
    "validate_sheet",
]

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class Place:
    """What the pass reads of the store, read once for a whole ingest and sent with it (picklable):
    the ``hub_rows`` columns (name, SQL type) and every village's (code, name) by township code."""

    row_columns: tuple[tuple[str, str], ...]
    villages: Mapping[str, tuple[tuple[str, str], ...]]

    @classmethod
    def of(cls, db: Database) -> Place:
        by_township: dict[str, list[tuple[str, str]]] = {}
        for code, name in db.rows(
            "SELECT code, name FROM hub_divisions WHERE level = 'village' ORDER BY code"
        ):  # a county's few hundred divisions (a province's tens of thousands), not data rows
            by_township.setdefault(str(code)[:9], []).append((str(code), str(name)))
        return cls(tuple(db.columns("hub_rows")), {t: tuple(v) for t, v in by_township.items()})

    def villages_of(self, township: str) -> tuple[tuple[str, str], ...]:
        return self.villages.get(township[:9], ())


def validate_sheet(
    db: Database, sheet: StagedSheet, schema: Schema, today: date, place: Place | None = None
) -> Validated:
    """Normalise every field of ``sheet`` per standards.md and report every failing cell. The fields
    report admission added are checked apart (:func:`hub.extension.values.check_sheet`). ``db`` is
    the store, or with ``place`` any DuckDB connection."""
    import pyarrow as pa

    from hub.extension.values import check_sheet
    from hub.validate.engine import findings_sql, rows_sql, start

    run = start(db, sheet, schema.core(), today, place)
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


_own = threading.local()


def _own_db() -> Database:
    """This thread's DuckDB for validating where a file was read (in memory, one thread, the store's
    memory limit, never spilling to the executor's disk: a pass that outgrows the limit fails, and
    :func:`validate_file` leaves that file to the store, which can spill). Kept for the thread's
    life: a Spark executor's Python worker validates its next files on it."""
    db = getattr(_own, "db", None)
    if db is None:
        from hub.store.db import Database, store_memory_mb

        db = Database(None, threads=1, ddl=False)
        db.execute(f"SET memory_limit = '{store_memory_mb()}MB'")
        db.execute("SET temp_directory = ''")
        _own.db = db
    return db


def validate_file(file: StagedFile, schema: Schema, place: Place, today: date) -> StagedFile:
    """Every sheet of a staged ``file`` validated where it was read, on :func:`_own_db`: the results
    ride with the file (``validated``, ``validated_on``) and the ingest stores them as they are. A
    file held for its columns or without sheets is left as it is. Should the pass fail here (memory),
    the file goes on unvalidated and the store validates it in the ingest's unit, as on one machine."""
    if file.held or not file.sheets:
        return file
    try:
        file.validated = [validate_sheet(_own_db(), s, schema, today, place) for s in file.sheets]
        file.validated_on = today
    except Exception as exc:  # the store validates it again, where the pass's errors are reported
        import duckdb

        if not isinstance(exc, duckdb.Error):
            raise
        from pathlib import Path

        name = Path(file.path).name
        log.warning("%s：读取处的校验未完成，改在入库时校验：%s", name, str(exc).splitlines()[0][:200])
        file.validated, file.validated_on = None, None
    return file


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
