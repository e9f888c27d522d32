"""Writing one ingested file into the store, all or nothing; where each submission's ingest has got to
(``hub_submission_state``: stored → linked → complete); withdrawing a submission; the store's summary."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hub.sqltext import sql_literal
from hub.store.db import Database

if TYPE_CHECKING:
    from hub.ingest.types import StagedFile, StagedSheet
    from hub.validate import Validated

ROW_COLUMNS_SQL = "SELECT column_name FROM information_schema.columns WHERE table_name = 'hub_rows' ORDER BY ordinal_position"


#: The states of a submission, in order (docs/operations.md). A submission without a state row
#: (stored before states were kept) is complete.
STATES = ("stored", "linked", "complete")

_STATE_SQL = "coalesce(st.state, 'complete')"


def find_by_sha(db: Database, sha256: str) -> dict[str, Any] | None:
    """The submission of this content, with its ``state`` (the first, if several)."""
    found = db.dicts(
        f"SELECT s.*, {_STATE_SQL} AS state FROM hub_submissions s "
        "LEFT JOIN hub_submission_state st USING (submission_id) WHERE s.sha256 = ? "
        "ORDER BY s.submission_id LIMIT 1",
        [sha256],
    )
    return found[0] if found else None


def unfinished(db: Database) -> list[dict[str, Any]]:
    """Submissions whose ingest has not completed (a kill, a full disk, an interrupted job), oldest
    first: ``submission_id, file_name, state, source_path, link, annotate``."""
    return db.dicts(
        "SELECT s.submission_id, s.file_name, st.state, st.source_path, st.link, st.annotate, st.updated_at "
        "FROM hub_submission_state st JOIN hub_submissions s USING (submission_id) "
        "WHERE st.state <> 'complete' ORDER BY s.submission_id"
    )


def undo_unfinished_linkage(db: Database, since: datetime, severities: Mapping[str, str]) -> int:
    """Put back what an entity resolution run that did not finish (killed after ``since``) changed in
    the rows, so the next run starts from the same rows as an uninterrupted one (it would otherwise
    train and score on rows it had already filled). One transaction. Misuse flags, candidates, pairs
    and clusters are recomputed by every run; fills are not, so each fill made since ``since`` is
    undone: the row rejected again without an ID, its ``id-filled-by-match`` warning gone, its ID
    findings back to their catalogue severity. Returns the number of rows put back."""
    import pyarrow as pa

    # fetched to the end (rows, not scalar): DuckDB refuses to register a table beside an open result
    n = int(db.rows("SELECT count(*) FROM hub_link_fills WHERE filled_at >= ?", [since])[0][0])
    if not n:
        return 0
    db.register(
        "__hub_severities",
        pa.table({"code": list(severities), "severity": list(severities.values())}),
    )
    undone = "(SELECT submission_id, sheet, row_no FROM hub_link_fills WHERE filled_at >= $since)"
    key = "(submission_id, sheet, row_no)"
    try:
        with db.transaction():
            db.execute(
                f"UPDATE hub_rows SET accepted = false, id_number = NULL, id_type = NULL WHERE {key} IN {undone}",
                {"since": since},
            )
            db.execute(
                f"DELETE FROM hub_findings WHERE code = 'id-filled-by-match' AND {key} IN {undone}",
                {"since": since},
            )
            db.execute(
                f"""UPDATE hub_findings f SET severity = c.severity FROM __hub_severities c
                    WHERE f.code = c.code AND f.field = 'id_number' AND f.severity <> c.severity
                      AND (f.submission_id, f.sheet, f.row_no) IN {undone}""",
                {"since": since},
            )
            db.execute("DELETE FROM hub_link_fills WHERE filled_at >= ?", [since])
    finally:
        db.unregister("__hub_severities")
    return n


def set_options(db: Database, submission_id: int, *, link: bool, annotate: bool, source: str) -> None:
    """The options of the ingest that finishes an unfinished submission (the same file ingested again)."""
    db.execute(
        "UPDATE hub_submission_state SET link = ?, annotate = ?, source_path = ? WHERE submission_id = ?",
        [link, annotate, source, submission_id],
    )


def finish_linking(db: Database, now: datetime | None = None) -> list[int]:
    """One transaction: every submission's counts re-derived from its rows and findings, and every
    ``stored`` submission moved on: to ``linked`` when it still needs its annotated copy (asked for,
    and it has a finding), else to ``complete``. Returns the ids now ``linked``. Nothing is written
    when no submission is ``stored``."""
    if not db.scalar("SELECT count(*) FROM hub_submission_state WHERE state = 'stored'"):
        return _linked_ids(db)
    with db.transaction():
        sync_counts(db)
        db.execute(
            """UPDATE hub_submission_state st SET updated_at = $now,
                   state = CASE WHEN st.annotate AND EXISTS (SELECT 1 FROM hub_findings f
                                                             WHERE f.submission_id = st.submission_id)
                                THEN 'linked' ELSE 'complete' END
               WHERE st.state = 'stored'""",
            {"now": now or datetime.now()},
        )
        return _linked_ids(db)


def _linked_ids(db: Database) -> list[int]:
    return [
        int(r[0])
        for r in db.rows("SELECT submission_id FROM hub_submission_state WHERE state = 'linked' ORDER BY 1")
    ]


def finish_copies(db: Database, written: dict[int, str | None], now: datetime | None = None) -> None:
    """One transaction: the annotated copies' paths recorded and their submissions ``complete``."""
    with db.transaction():
        for sid, path in written.items():
            db.execute(
                "UPDATE hub_submissions SET annotated_path = coalesce(?, annotated_path) WHERE submission_id = ?",
                [path, sid],
            )
            db.execute(
                "UPDATE hub_submission_state SET state = 'complete', updated_at = ? WHERE submission_id = ?",
                [now or datetime.now(), sid],
            )


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
    source_path: str | None = None,
    link: bool = True,
    annotate: bool = True,
) -> int:
    """Insert the submission, its header map, raw rows, normalised rows and findings, and its state
    ``stored``, in one transaction. Returns the new submission id. (The annotated copy is written,
    and its path set, after entity resolution, when the findings are final.)"""
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
        db.execute(
            "INSERT INTO hub_submission_state VALUES (?, 'stored', ?, ?, ?, ?)",
            [sid, source_path, link, annotate, now or datetime.now()],
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
            if validated.extras is not None and validated.extras.num_rows:  # admitted fields (hub.extension)
                db.register("__hub_extras", validated.extras)
                db.execute(
                    "INSERT INTO hub_extra_values SELECT ?, sheet, row_no, field_key, value FROM __hub_extras",
                    [sid],
                )
                db.unregister("__hub_extras")
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
    # a store opened without its DDL (a full disk: docs/operations.md) may predate these tables
    out["unfinished"] = (
        [{k: r[k] for k in ("submission_id", "file_name", "state")} for r in unfinished(db)]
        if db.table_exists("hub_submission_state")
        else []
    )
    out["withdrawn"] = (
        int(db.scalar("SELECT count(*) FROM hub_withdrawals")) if db.table_exists("hub_withdrawals") else 0
    )
    return out


def submission_findings(
    db: Database,
    submission_id: int,
    *,
    severity: str | None = None,
    limit: int | None = None,
    max_rows: int | None = None,
) -> list[dict[str, Any]]:
    """The findings of a submission, in sheet and row order: every one, or those of ``severity``, at
    most ``limit`` of them, or those of the first ``max_rows`` rows with a finding (and the ones of no
    row). Bounded in SQL: a 200,000-row file of one repeated row has 200,000 findings."""
    return db.dicts(
        """SELECT * EXCLUDE (k) FROM (
               SELECT *, dense_rank() OVER (ORDER BY row_no IS NULL, sheet, row_no) AS k FROM hub_findings
               WHERE submission_id = $sid AND ($severity IS NULL OR severity = $severity))
           WHERE $max_rows IS NULL OR row_no IS NULL OR k <= $max_rows
           ORDER BY sheet, row_no, severity, code LIMIT $limit""",
        {"sid": submission_id, "severity": severity, "max_rows": max_rows, "limit": limit},
    )


def finding_totals(db: Database, submission_id: int) -> tuple[int, int]:
    """(rows with a finding, findings) of a submission."""
    rows, n = db.rows(
        "SELECT count(DISTINCT (sheet, row_no)) FILTER (WHERE row_no IS NOT NULL), count(*) "
        "FROM hub_findings WHERE submission_id = ?",
        [submission_id],
    )[0]
    return int(rows), int(n)


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


def withdrawal(db: Database, submission_id: int) -> dict[str, Any] | None:
    """The audit row of a withdrawn submission, or None."""
    found = db.dicts("SELECT * FROM hub_withdrawals WHERE submission_id = ?", [submission_id])
    return found[0] if found else None


#: The tables holding a submission's own data, by submission_id (withdrawal deletes from each).
SUBMISSION_TABLES = (
    "hub_rows", "hub_raw_rows", "hub_findings", "hub_columns", "hub_extra_values", "hub_link_misuse", "hub_link_fills",
    "hub_link_clusters", "hub_submission_state",
)  # fmt: skip


def withdraw_submission(
    db: Database, submission_id: int, *, by: str, reason: str, now: datetime | None = None
) -> dict[str, Any]:
    """One transaction: the submission's audit row written to ``hub_withdrawals`` and its data
    deleted from every table that holds it (:data:`SUBMISSION_TABLES`, then ``hub_submissions``).
    Returns the audit row. The caller re-links and re-merges the store without it."""
    with db.transaction():
        db.execute(
            """INSERT INTO hub_withdrawals
               SELECT submission_id, file_name, sha256, township_code, kind, submitted_at, submitted_by,
                      rows, accepted, rejected, ?, ?, ?, NULL
               FROM hub_submissions WHERE submission_id = ?""",
            [now or datetime.now(), by, reason, submission_id],
        )
        for table in SUBMISSION_TABLES:
            db.execute(f"DELETE FROM {table} WHERE submission_id = ?", [submission_id])
        db.execute("DELETE FROM hub_submissions WHERE submission_id = ?", [submission_id])
    found = withdrawal(db, submission_id)
    assert found is not None
    return found


def complete_withdrawal(db: Database, submission_id: int, now: datetime | None = None) -> None:
    db.execute(
        "UPDATE hub_withdrawals SET completed_at = ? WHERE submission_id = ?",
        [now or datetime.now(), submission_id],
    )
