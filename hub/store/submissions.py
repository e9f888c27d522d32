"""Writing one ingested file into the store, all or nothing, and reading the store's summary."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from hub.sqltext import sql_literal
from hub.store.db import Database

if TYPE_CHECKING:
    from hub.ingest.types import StagedFile, StagedSheet
    from hub.validate import Validated

ROW_COLUMNS_SQL = "SELECT column_name FROM information_schema.columns WHERE table_name = 'hub_rows' ORDER BY ordinal_position"


def find_by_sha(db: Database, sha256: str) -> dict[str, Any] | None:
    found = db.dicts(
        "SELECT * FROM hub_submissions WHERE sha256 = ? ORDER BY submission_id LIMIT 1", [sha256]
    )
    return found[0] if found else None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def save_submission(
    db: Database,
    staged: StagedFile,
    results: list[tuple[StagedSheet, Validated]],
    *,
    file_name: str,
    township_code: str | None,
    submitted_by: str | None = None,
    now: datetime | None = None,
) -> int:
    """Insert the submission, its header map, raw rows, normalised rows and findings in one
    transaction. Returns the new submission id. (The annotated copy is written, and its path set,
    after entity resolution, when the findings are final.)"""
    rows = sum(v.rows.num_rows for _, v in results)
    accepted = sum(_count(v.rows, "accepted", True) for _, v in results)
    n_err = sum(_count(v.findings, "severity", "error") for _, v in results)
    n_warn = sum(_count(v.findings, "severity", "warning") for _, v in results)
    kinds = ",".join(sorted({s.kind for s, _ in results}))
    row_columns = [r[0] for r in db.rows(ROW_COLUMNS_SQL)]
    with db.transaction():
        sid = int(db.scalar("SELECT nextval('hub_submission_seq')"))
        db.execute(
            "INSERT INTO hub_submissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                sid,
                file_name,
                staged.sha256,
                township_code,
                kinds,
                now or datetime.now(),
                submitted_by,
                rows,
                accepted,
                rows - accepted,
                n_err,
                n_warn,
                None,  # annotated_path
                sum(_typed_cells(sheet) for sheet, _ in results),
            ],
        )
        for sheet, validated in results:
            for col in sheet.columns:
                db.execute(
                    "INSERT INTO hub_columns VALUES (?, ?, ?, ?, ?)",
                    [sid, sheet.sheet, col.col_index, col.header, col.field],
                )
            # Raw rows: the cells as written, keyed by the clerk's own headers.
            db.register("__hub_stage", sheet.data)
            mapped = [c for c in sheet.columns if c.field and c.field in sheet.data.column_names]
            if mapped:
                pairs = ", ".join(f"{sql_literal(c.header)}: {_quote(c.field or '')}" for c in mapped)
                cells = f"to_json({{{pairs}}})"
            else:
                cells = "NULL"
            db.execute(
                f"INSERT INTO hub_raw_rows SELECT {sid}, _sheet, CAST(_row AS INTEGER), {cells} FROM __hub_stage"
            )
            db.unregister("__hub_stage")
            db.register("__hub_rows", validated.rows)
            select = ", ".join(["?" if c == "submission_id" else _quote(c) for c in row_columns])
            db.execute(f"INSERT INTO hub_rows SELECT {select} FROM __hub_rows", [sid])
            db.unregister("__hub_rows")
            db.register("__hub_findings", validated.findings)
            db.execute(
                "INSERT INTO hub_findings SELECT ?, sheet, row_no, column_name, field, value, code, severity, message "
                "FROM __hub_findings",
                [sid],
            )
            db.unregister("__hub_findings")
    return sid


def _typed_cells(sheet: StagedSheet) -> int:
    """Non-empty cells the clerk typed in the sheet's mapped columns (vectorised)."""
    import pyarrow.compute as pc

    total = 0
    for col in {c.field for c in sheet.columns if c.field and c.field in sheet.data.column_names}:
        values = sheet.data.column(col)
        total += int(
            pc.sum(pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(values), ""), False)).as_py() or 0
        )
    return total


def _count(table: Any, column: str, value: object) -> int:
    """Rows of an Arrow table whose ``column`` equals ``value`` (vectorised)."""
    import pyarrow.compute as pc

    if table.num_rows == 0:
        return 0
    return int(pc.sum(pc.equal(table.column(column), value)).as_py() or 0)


def store_status(db: Database) -> dict[str, Any]:
    """Counts for `hub status`."""
    sub = db.dicts(
        "SELECT count(*) AS submissions, coalesce(sum(rows), 0) AS rows, coalesce(sum(accepted), 0) AS accepted, "
        "coalesce(sum(rejected), 0) AS rejected, coalesce(sum(errors), 0) AS errors, "
        "coalesce(sum(warnings), 0) AS warnings, max(submitted_at) AS last_submission FROM hub_submissions"
    )[0]
    counts = {
        "divisions": "SELECT count(*) FROM hub_divisions",
        "townships": "SELECT count(*) FROM hub_divisions WHERE level = 'township'",
        "villages": "SELECT count(*) FROM hub_divisions WHERE level = 'village'",
        "persons": "SELECT count(*) FROM hub_person",
        "households": "SELECT count(*) FROM hub_household",
        "businesses": "SELECT count(*) FROM hub_business",
        "conflicts": "SELECT count(*) FROM hub_conflicts",
    }
    out: dict[str, Any] = {k: int(v) for k, v in sub.items() if k != "last_submission"}
    out["last_submission"] = (
        sub["last_submission"].isoformat(sep=" ", timespec="seconds") if sub["last_submission"] else None
    )
    for key, query in counts.items():
        out[key] = int(db.scalar(query))
    out["by_township"] = db.dicts(
        "SELECT s.township_code AS township, d.name AS township_name, count(*) AS submissions, "
        "sum(s.rows) AS rows, sum(s.accepted) AS accepted, sum(s.rejected) AS rejected "
        "FROM hub_submissions s LEFT JOIN hub_divisions d ON d.code = s.township_code "
        "GROUP BY ALL ORDER BY 1"
    )
    for row in out["by_township"]:
        for k in ("rows", "accepted", "rejected"):
            row[k] = int(row[k] or 0)
    return out


def submission_findings(db: Database, submission_id: int) -> list[dict[str, Any]]:
    """Every finding of a submission, in sheet and row order."""
    return db.dicts(
        "SELECT * FROM hub_findings WHERE submission_id = ? ORDER BY sheet, row_no, severity, code",
        [submission_id],
    )


def sync_counts(db: Database) -> None:
    """Re-derive each submission's counts from its rows and findings (entity resolution may accept a
    filled row or reject a misused one after the file was stored)."""
    db.execute(
        """
        UPDATE hub_submissions s SET accepted = c.accepted, rejected = c.rejected, errors = c.errors,
               warnings = c.warnings
        FROM (
            SELECT r.submission_id, count(*) FILTER (WHERE r.accepted) AS accepted,
                   count(*) FILTER (WHERE NOT r.accepted) AS rejected,
                   coalesce(any_value(f.errors), 0) AS errors, coalesce(any_value(f.warnings), 0) AS warnings
            FROM hub_rows r
            LEFT JOIN (SELECT submission_id, count(*) FILTER (WHERE severity = 'error') AS errors,
                              count(*) FILTER (WHERE severity = 'warning') AS warnings
                       FROM hub_findings GROUP BY ALL) f USING (submission_id)
            GROUP BY r.submission_id
        ) c
        WHERE s.submission_id = c.submission_id
        """
    )
