"""Provenance without copies: the source rows of every entity, as SQL over ``hub_rows``.

Every value of every merged record already lives in ``hub_rows`` (submission, sheet, row number; the
header it was written under is in ``hub_columns``). This module generates the SQL that reads them back:

* :func:`rows_sql`: the accepted rows with ``submitted_at`` and the BIGINT recency key
  ``k = sub_rank << 40 | sheet_rank << 24 | (2^24 - 1 - row_no)`` (later submission first; inside one
  submission the lowest sheet name, then the lowest row number), optionally without exact duplicates
  (every canonical field equal inside one submission: only the first is kept);
* :func:`person_src`, :func:`business_src`, :func:`household_src`: each entity's source rows keyed by
  its natural key (the merge aggregates exactly these);
* :func:`values_sql`: every non-empty value of those rows, one row per (entity, field, source row), with
  the entity's code, i.e. the ``hub_values`` view, and, restricted to a few natural keys, the sources of
  the conflicts (:func:`write_conflicts`). One generator for both, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from hub.dedupe.codes import RESOLVED
from hub.dedupe.rules import (
    BUSINESS_FIELDS,
    DISABILITY_FIELDS,
    HOUSEHOLD_FIELDS,
    PERSON_FIELDS,
    FieldRule,
    as_text,
)

if TYPE_CHECKING:
    from hub.store.engine import Statements

# The canonical content of a row: two rows of one submission equal on all of these are one row.
CONTENT = [
    "township_code", "kind", "household_key", "id_number", "id_type", "name", "sex", "birth_date",
    "birth_precision", "ethnicity", "marital_status", "village_code", "address", "phone",
    "person_status", "death_date", "household_no", "head_name", "head_id_number", "relation",
    "dibao_category", "household_size", "covered_count", "covered", "dibao_amount", "dibao_start",
    "disability_category", "disability_level", "disability_cert", "uscc", "reg_no", "business_name",
    "operator_name", "remark",
]  # fmt: skip

# Per (submission, sheet): submitted_at, submission rank and the high bits of the recency key.
KEYS_SQL = """
WITH sub AS (
    SELECT submission_id, submitted_at,
           row_number() OVER (ORDER BY submitted_at, submission_id) AS sub_rank
    FROM hub_submissions
), sheets AS (
    SELECT submission_id, sheet,
           row_number() OVER (PARTITION BY submission_id ORDER BY sheet DESC) AS sheet_rank
    FROM (SELECT DISTINCT submission_id, sheet FROM hub_rows WHERE accepted)
)
SELECT submission_id, sheet, submitted_at, sub_rank, (sub_rank << 40) + (sheet_rank << 24) AS kbase
FROM sub JOIN sheets USING (submission_id)
"""

ENTITY_FIELDS: dict[str, tuple[FieldRule, ...]] = {
    "person": (*PERSON_FIELDS, *DISABILITY_FIELDS),
    "business": BUSINESS_FIELDS,
    "household": HOUSEHOLD_FIELDS,
}


# A resubmission supersedes its source's earlier ledger: those rows leave, except the residents it
# left out while they are 待核实 or answered 漏报 (hub/exchange/departures.py, 50_exchange.sql).
IN_FORCE = (
    "(r.submission_id NOT IN (SELECT submission_id FROM hub_superseded) "
    "OR (r.submission_id, r.id_number) IN (SELECT submission_id, id_number FROM hub_departures_kept))"
)


def rows_sql(keys: str | None = None, where: str = "", dedup: bool = False) -> str:
    """Accepted hub_rows in force (:data:`IN_FORCE`) plus ``submitted_at``, ``sub_rank``, ``k``. ``keys``: a table of
    :data:`KEYS_SQL` (inline when None); ``where``: extra condition on ``r``; ``dedup``: drop exact
    duplicates (a window over the content columns: only for restricted sets or the view)."""
    ktab = keys or f"({KEYS_SQL})"
    sql = (
        f"SELECT r.* EXCLUDE (accepted), kt.submitted_at, kt.sub_rank, kt.kbase + (16777215 - r.row_no) AS k "
        f"FROM hub_rows r JOIN {ktab} kt USING (submission_id, sheet) WHERE r.accepted AND {IN_FORCE}"
    )
    if where:
        sql += f" AND ({where})"
    return sql + (_DEDUP if dedup else "")


#: rows_sql's ``dedup``: of exact duplicates within a submission, the last row only.
_DEDUP = f" QUALIFY k = max(k) OVER (PARTITION BY r.submission_id, {', '.join('r.' + c for c in CONTENT)})"


def rows_within(table: str, where: str, dedup: bool = False) -> str:
    """:func:`rows_sql` over ``table``, rows already read by it (a superset of the rows ``where``
    selects: the incremental merge's affected rows), instead of the whole of ``hub_rows``."""
    return f"SELECT * FROM {table} r WHERE ({where})" + (_DEDUP if dedup else "")


_META = "submission_id, sheet, row_no, kind, submitted_at, k"
# What a 低保 roster says of a head named only in its head columns (the other person fields: NULL).
_HEAD_COLUMNS = {
    "id_number": "head_id_number", "name": "head_name", "township_code": "township_code",
    "village_code": "village_code", "address": "address",
}  # fmt: skip


def person_src(rows: str) -> str:
    """Person source rows: every non-business row carrying an ID, plus the heads a 低保 roster names
    only in its head columns (one row per submission, household and head). Key: ``id_number``."""
    names = ["id_number", *(f.source for f in ENTITY_FIELDS["person"])]
    heads = ", ".join(f"{_HEAD_COLUMNS.get(c, 'NULL')} AS {c}" for c in names)
    return f"""
    WITH r AS ({rows})
    SELECT {", ".join(names)}, {_META} FROM r WHERE id_number IS NOT NULL AND kind <> 'business'
    UNION ALL
    SELECT {heads}, {_META}
    FROM r d
    WHERE kind = 'dibao' AND head_id_number IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM r m
        WHERE m.kind = 'dibao' AND m.submission_id = d.submission_id
          AND m.household_key IS NOT DISTINCT FROM d.household_key AND m.id_number = d.head_id_number)
    QUALIFY row_number() OVER (PARTITION BY submission_id, household_key, head_id_number ORDER BY k DESC) = 1
    """


def business_src(rows: str) -> str:
    """Business source rows: every row with a USCC. Key: ``uscc``."""
    return f"SELECT * FROM ({rows}) r WHERE uscc IS NOT NULL"


def household_src(rows: str) -> str:
    """Household source rows, one per (household row, member). Key: ``natural_key``
    (``dibao:<head id>`` or ``hukou:<township>:<household_no>``, see :mod:`hub.dedupe.households`)."""
    cols = (
        "id_number, relation, covered, township_code, village_code, dibao_category, covered_count, "
        f"dibao_amount, dibao_start, sub_rank, {_META}"
    )
    return f"""
    WITH r AS ({rows}), d AS (
        SELECT *, coalesce(household_key, head_id_number, id_number) AS grp FROM r
        WHERE kind = 'dibao' AND id_number IS NOT NULL
    ), heads AS (
        SELECT submission_id, grp,
               coalesce(max(head_id_number),
                        arg_max(id_number, k) FILTER (WHERE relation IN ('01', '02')),
                        arg_max(id_number, k)) AS head_id
        FROM d GROUP BY submission_id, grp
    )
    SELECT 'dibao:' || h.head_id AS natural_key, '低保家庭' AS hkind, h.head_id, {cols}
    FROM d JOIN heads h USING (submission_id, grp)
    UNION ALL
    SELECT 'hukou:' || township_code || ':' || household_no AS natural_key, '户籍户' AS hkind,
           CAST(NULL AS VARCHAR) AS head_id, {cols}
    FROM r
    WHERE kind = 'population' AND household_no IS NOT NULL AND township_code IS NOT NULL
      AND id_number IS NOT NULL
    """


def _entity_src(entity: str, rows: str) -> tuple[str, str]:
    if entity == "person":
        return person_src(rows), "id_number"
    if entity == "business":
        return business_src(rows), "uscc"
    return household_src(rows), "natural_key"


def values_sql(entity: str, src: str, key: str, fields: Sequence[FieldRule] | None = None) -> str:
    """hub_values rows of ``entity`` from its source rows ``src``: entity, entity_code, field, value,
    submission_id, sheet, row_no, kind, submitted_at (+ k). Household facts repeat on every member
    row of a roster: they are kept once per (household, field, value, submission)."""
    fields = fields or ENTITY_FIELDS[entity]
    per_field = "\nUNION ALL\n".join(
        f"SELECT '{f.field}' AS field, {as_text(f)} AS value, {key} AS nk, {_META} FROM s "
        f"WHERE {f.source} IS NOT NULL"
        for f in fields
    )
    coded = f"""
        WITH s AS ({src})
        SELECT '{entity}' AS entity, c.code AS entity_code, v.field, v.value, v.submission_id, v.sheet,
               v.row_no, v.kind, v.submitted_at, v.k
        FROM ({per_field}) v JOIN {RESOLVED} c ON c.entity = '{entity}' AND c.natural_key = v.nk
    """
    if entity != "household":
        return coded
    return f"""
        SELECT entity, entity_code, field, value, submission_id, arg_max(sheet, k) AS sheet,
               arg_max(row_no, k) AS row_no, arg_max(kind, k) AS kind, max(submitted_at) AS submitted_at,
               max(k) AS k
        FROM ({coded}) GROUP BY entity, entity_code, field, value, submission_id
    """


def hub_values_view_sql() -> str:
    """The ``hub_values`` view: every value every source gave, computed from hub_rows on read."""
    parts = []
    for entity in ("person", "business", "household"):
        # Household values collapse per submission anyway; persons and businesses drop exact duplicates.
        src, key = _entity_src(entity, rows_sql(dedup=entity != "household"))
        parts.append(
            "SELECT entity, entity_code, field, value, submission_id, sheet, row_no, kind, submitted_at "
            f"FROM ({values_sql(entity, src, key)})"
        )
    return "CREATE OR REPLACE VIEW hub_values AS\n" + "\nUNION ALL\n".join(parts)


def write_conflicts(
    db: Statements, keys: str, household_src_table: str, within: Mapping[str, str] | None = None
) -> None:
    """One hub_conflicts row per flagged (entity, field) of ``_m_conf``, its sources as JSON, latest
    first. The sources are the hub_values rows of the flagged entities only, read from ``hub_rows``
    restricted to their natural keys (``keys``: the merge's table of :data:`KEYS_SQL`), or from the
    table ``within[entity]`` that already holds every row of the flagged entities (:func:`rows_within`)."""

    def rows(entity: str, where: str) -> str:
        table = (within or {}).get(entity)
        return rows_within(table, where, dedup=True) if table else rows_sql(keys, where, dedup=True)

    for entity in ("person", "business", "household"):
        if not db.scalar("SELECT count(*) FROM _m_conf WHERE entity = ?", [entity]):
            continue
        db.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _m_conf_keys AS
            SELECT natural_key FROM {RESOLVED} r
            WHERE entity = '{entity}' AND code IN (SELECT entity_code FROM _m_conf WHERE entity = '{entity}')
            """
        )
        flagged = "SELECT natural_key FROM _m_conf_keys"
        if entity == "person":
            src = person_src(rows(entity, f"r.id_number IN ({flagged}) OR r.head_id_number IN ({flagged})"))
            key = "id_number"
        elif entity == "business":
            src, key = business_src(rows(entity, f"r.uscc IN ({flagged})")), "uscc"
        else:
            src, key = f"SELECT * FROM {household_src_table} WHERE natural_key IN ({flagged})", "natural_key"
        db.execute(
            f"""
            INSERT INTO hub_conflicts
            SELECT c.entity, c.entity_code, c.field, c.conflict_kind, c.chosen, c.rule,
                   to_json(list({{
                       'value': v.value, 'submission_id': v.submission_id, 'file': s.file_name,
                       'sheet': v.sheet, 'row': v.row_no, 'kind': v.kind,
                       'submitted_at': strftime(v.submitted_at, '%Y-%m-%d') || 'T' || strftime(v.submitted_at, '%H:%M:%S')
                   }} ORDER BY v.submitted_at DESC, v.submission_id DESC, v.sheet, v.row_no))
            FROM _m_conf c
            JOIN ({values_sql(entity, src, key)}) v USING (entity, entity_code, field)
            LEFT JOIN hub_submissions s ON s.submission_id = v.submission_id
            WHERE c.entity = '{entity}'
            GROUP BY ALL
            """
        )
    db.execute("DROP TABLE IF EXISTS _m_conf_keys")
