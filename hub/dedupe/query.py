"""Read side of the merge: the stewards' conflict list and one person's provenance."""

from __future__ import annotations

import json
from typing import Any

from hub.errors import HubError
from hub.store.db import Database

# Every merged entity with its code, display name and counting township.
_ENTITIES = """
SELECT 'person' AS entity, person_code AS code, name, township_code FROM hub_person
UNION ALL
SELECT 'business', business_code, name, township_code FROM hub_business
UNION ALL
SELECT 'household', h.household_code, p.name, h.township_code
FROM hub_household h LEFT JOIN hub_person p ON p.person_code = h.head_person_code
"""


def list_conflicts(db: Database, township: str | None = None) -> list[dict[str, Any]]:
    """Conflicts for ``hub conflicts [--json]``: entity, code, name, field, kind, chosen, rule,
    sources (list of {value, submission_id, file, sheet, row, kind, submitted_at}, latest first).
    ``township`` (9 digits) keeps the conflicts of entities counted in that township."""
    rows = db.dicts(
        f"""
        SELECT c.entity, c.entity_code AS code, e.name, c.field, c.conflict_kind AS kind, c.chosen,
               c.rule, CAST(c.sources AS VARCHAR) AS sources
        FROM hub_conflicts c
        LEFT JOIN ({_ENTITIES}) e ON e.entity = c.entity AND e.code = c.entity_code
        WHERE $township IS NULL OR e.township_code = $township
        ORDER BY c.conflict_kind DESC, c.entity, c.entity_code, c.field
        """,
        {"township": township},
    )
    for row in rows:
        row["sources"] = json.loads(row["sources"])
    return rows


def explain_person(db: Database, code: str) -> dict[str, Any]:
    """Everything the hub knows about one person and where each value came from.

    Returns ``{code, person, disability, households, values, conflicts, sources}``: the merged
    record, the memberships, every value with its source (latest first), the conflicts and the
    distinct source submissions. A code absorbed by another (``redirect_to``) is followed."""
    target = db.scalar(
        "SELECT coalesce(max(redirect_to), max(code)) FROM hub_codes WHERE entity = 'person' AND code = ?",
        [code],
    )
    person = db.dicts("SELECT * FROM hub_person WHERE person_code = ?", [target or code])
    if not person:
        raise HubError(
            f"没有编码为 {code} 的人员",
            hint="用 hub conflicts 或导出名单查到人员编码后再试",
            code="not-found",
        )
    pcode = person[0]["person_code"]
    disability = db.dicts(
        "SELECT category, level, certificate FROM hub_disability WHERE person_code = ?", [pcode]
    )
    households = db.dicts(
        """
        SELECT m.household_code, h.kind, m.relation, m.covered, m.seq, h.township_code, h.active
        FROM hub_membership m JOIN hub_household h USING (household_code)
        WHERE m.person_code = ? ORDER BY m.household_code
        """,
        [pcode],
    )
    values = db.dicts(
        """
        SELECT v.field, v.value, v.submission_id, s.file_name AS file, v.sheet, v.row_no AS row, v.kind,
               v.submitted_at
        FROM hub_values v LEFT JOIN hub_submissions s USING (submission_id)
        WHERE v.entity = 'person' AND v.entity_code = ?
        ORDER BY v.field, v.submitted_at DESC, v.submission_id DESC, v.sheet, v.row_no
        """,
        [pcode],
    )
    conflicts = [c for c in list_conflicts(db) if c["entity"] == "person" and c["code"] == pcode]
    sources = db.dicts(
        """
        SELECT DISTINCT v.submission_id, s.file_name AS file, v.kind, v.submitted_at
        FROM hub_values v LEFT JOIN hub_submissions s USING (submission_id)
        WHERE v.entity = 'person' AND v.entity_code = ?
        ORDER BY v.submitted_at DESC, v.submission_id DESC
        """,
        [pcode],
    )
    return {
        "code": pcode,
        "person": person[0],
        "disability": disability[0] if disability else None,
        "households": households,
        "values": values,
        "conflicts": conflicts,
        "sources": sources,
    }
