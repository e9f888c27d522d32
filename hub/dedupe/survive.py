"""Generic survivorship for one entity: pick every field, keep every value, flag disagreements.

Input is a temp table of source rows with an entity-code column, the source columns named by the
:class:`~hub.dedupe.rules.FieldRule` list, ``submission_id, sheet, row_no, kind, submitted_at`` and the
recency key ``k``. Output: the temp table ``_m_<entity>`` (one row per code: chosen values plus a
``c_<field>`` disagreement flag each), every non-empty source value appended to ``hub_values``, and
every disagreeing (entity, field) appended to the temp table ``_m_conf``.
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.dedupe.rules import DUPLICATE_REGISTRATION_RULE, FieldRule, as_text, pick
from hub.store.db import Database

CONF_DDL = """
CREATE OR REPLACE TEMP TABLE _m_conf (
    entity VARCHAR, entity_code VARCHAR, field VARCHAR, conflict_kind VARCHAR, chosen VARCHAR, rule VARCHAR
)
"""


def survive(
    db: Database,
    entity: str,
    src: str,
    code: str,
    fields: Sequence[FieldRule],
    extra: str = "",
    collapse: bool = False,
) -> None:
    """Aggregate ``src`` by ``code`` into ``_m_<entity>``; ``extra`` adds aggregate columns.
    ``collapse`` keeps one hub_values row per (code, field, value, submission): for household-level
    facts repeated on every member row of a roster."""
    picks = ",\n".join(pick(f) for f in fields)
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _m_{entity} AS
        SELECT {code} AS code, {picks},
               max(submitted_at) AS updated_at{"," if extra else ""} {extra}
        FROM {src} GROUP BY {code}
        """
    )
    values = "\nUNION ALL\n".join(
        f"SELECT '{entity}' AS entity, {code} AS code, '{f.field}' AS field, {as_text(f)} AS value, "
        f"submission_id, sheet, row_no, kind, submitted_at, k FROM {src} WHERE {f.source} IS NOT NULL"
        for f in fields
    )
    if collapse:
        values = (
            "SELECT entity, code, field, value, submission_id, arg_max(sheet, k), arg_max(row_no, k), "
            f"arg_max(kind, k), max(submitted_at) FROM ({values}) GROUP BY ALL"
        )
    else:
        values = f"SELECT * EXCLUDE (k) FROM ({values})"
    db.execute(f"INSERT INTO hub_values {values}")
    conflicts = "\nUNION ALL\n".join(
        f"SELECT '{entity}', code, '{f.field}', "
        f"'{'重复登记' if f.field == 'township_code' else '值不一致'}', CAST({f.field} AS VARCHAR), "
        f"'{DUPLICATE_REGISTRATION_RULE if f.field == 'township_code' else f.rule_text}' "
        f"FROM _m_{entity} WHERE c_{f.field}"
        for f in fields
    )
    db.execute(f"INSERT INTO _m_conf {conflicts}")


def write_conflicts(db: Database) -> None:
    """One hub_conflicts row per flagged (entity, field), its sources as JSON, latest first."""
    db.execute(
        """
        INSERT INTO hub_conflicts
        SELECT c.entity, c.entity_code, c.field, c.conflict_kind, c.chosen, c.rule,
               to_json(list({
                   'value': v.value, 'submission_id': v.submission_id, 'file': s.file_name,
                   'sheet': v.sheet, 'row': v.row_no, 'kind': v.kind,
                   'submitted_at': strftime(v.submitted_at, '%Y-%m-%dT%H:%M:%S')
               } ORDER BY v.submitted_at DESC, v.submission_id DESC, v.sheet, v.row_no))
        FROM _m_conf c
        JOIN hub_values v USING (entity, entity_code, field)
        LEFT JOIN hub_submissions s ON s.submission_id = v.submission_id
        GROUP BY ALL
        """
    )
