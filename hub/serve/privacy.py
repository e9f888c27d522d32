"""What a township clerk may see of the merged store: the conflicts of their own township, with
every fact of another township reduced to "也在某镇登记（自 日期）".

The merge keeps, for every conflict, the sources that disagree (file, sheet, row, value) from every
township. A clerk of 城关街道 must not read 青山镇's address, village code or file name of a person
registered in both (人户分离), and vice versa. :func:`clerk_conflicts` returns the conflicts that
concern the township (the entity is counted there, or one of its sources is the township's own
submission) in the shape of :func:`hub.dedupe.query.list_conflicts`, where

* a source from the township's own submissions is shown as it is;
* the sources of another township become one entry per township: ``{"foreign": True,
  "township": name, "since": first date}`` and nothing else (no value, file, sheet or row);
* the adopted value (``chosen``) is shown only when the township's own sources hold it (or it is
  the counting township, for 重复登记); otherwise ``chosen_hidden`` says it came from elsewhere;
* the name is the merged name when the entity is counted in the township, else the name the
  township itself submitted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.facade import Hub

_SOURCES_TYPE = (
    '[{"value": "VARCHAR", "submission_id": "BIGINT", "file": "VARCHAR", "sheet": "VARCHAR", '
    '"row": "BIGINT", "kind": "VARCHAR", "submitted_at": "VARCHAR"}]'
)

_SQL = f"""
WITH c AS (
    SELECT row_number() OVER (ORDER BY conflict_kind DESC, entity, entity_code, field) AS cid, *
    FROM hub_conflicts
),
e AS (
    SELECT 'person' AS entity, person_code AS code, name, township_code FROM hub_person
    UNION ALL SELECT 'business', business_code, name, township_code FROM hub_business
    UNION ALL
    SELECT 'household', h.household_code, p.name, h.township_code
    FROM hub_household h LEFT JOIN hub_person p ON p.person_code = h.head_person_code
),
s AS (
    SELECT cid, unnest(from_json(sources, '{_SOURCES_TYPE}'), recursive := true) FROM c
),
src AS (
    SELECT s.*, sub.township_code AS source_town, d.name AS source_town_name
    FROM s
    LEFT JOIN hub_submissions sub ON sub.submission_id = s.submission_id
    LEFT JOIN hub_divisions d ON d.code = sub.township_code
),
mine AS (  -- conflicts that concern the township
    SELECT c.cid FROM c LEFT JOIN e ON e.entity = c.entity AND e.code = c.entity_code
    WHERE e.township_code = $town
    UNION SELECT cid FROM src WHERE source_town = $town
),
own_name AS (  -- the name the township itself submitted, for entities counted elsewhere
    SELECT v.entity, v.entity_code, min(v.value) AS name
    FROM hub_values v JOIN hub_submissions sub USING (submission_id)
    WHERE v.field IN ('name', 'business_name') AND sub.township_code = $town
    GROUP BY ALL
)
SELECT c.cid, c.entity, c.entity_code AS code, c.field, c.conflict_kind AS kind, c.chosen, c.rule,
       e.township_code = $town AS counted_here,
       CASE WHEN e.township_code = $town THEN e.name ELSE o.name END AS name,
       ed.name AS counted_in,
       src.value, src.submission_id, src.file, src.sheet, src.row, src.kind AS ledger,
       src.submitted_at, coalesce(src.source_town = $town, false) AS own,
       coalesce(src.source_town_name, src.source_town, '其他乡镇') AS source_town_name
FROM c
JOIN mine USING (cid)
LEFT JOIN e ON e.entity = c.entity AND e.code = c.entity_code
LEFT JOIN hub_divisions ed ON ed.code = e.township_code
LEFT JOIN own_name o ON o.entity = c.entity AND o.entity_code = c.entity_code
LEFT JOIN src USING (cid)
ORDER BY c.cid, src.submitted_at DESC, src.submission_id DESC
"""

TOWNSHIP_FIELDS = {"township", "township_code"}


def clerk_conflicts(hub: Hub, town: str) -> list[dict[str, Any]]:
    """The conflicts a clerk of ``town`` (9 digits) sees; see the module's docstring."""
    rows = hub.db.dicts(_SQL, {"town": town})
    items: list[dict[str, Any]] = []
    for group in _groups(rows):
        first = group[0]
        own = [r for r in group if r["own"] and r["submission_id"] is not None]
        foreign: dict[str, str] = {}
        for r in group:
            if not r["own"] and r["submission_id"] is not None:
                day = str(r["submitted_at"] or "")[:10]
                name = str(r["source_town_name"])
                foreign[name] = min(foreign.get(name, day) or day, day)
        chosen = first["chosen"]
        hidden = False
        if first["field"] in TOWNSHIP_FIELDS:
            chosen = first["counted_in"] or ("本乡镇" if chosen == town else "其他乡镇")
        elif chosen is not None and chosen not in {r["value"] for r in own}:
            chosen, hidden = None, True
        items.append(
            {
                "entity": first["entity"],
                "code": first["code"],
                "name": first["name"],
                "field": first["field"],
                "kind": first["kind"],
                "chosen": chosen,
                "chosen_hidden": hidden,
                "rule": first["rule"],
                "sources": [
                    {
                        "value": r["value"],
                        "submission_id": r["submission_id"],
                        "file": r["file"],
                        "sheet": r["sheet"],
                        "row": r["row"],
                        "kind": r["ledger"],
                        "submitted_at": str(r["submitted_at"]),
                    }
                    for r in own
                ]
                + [
                    {"foreign": True, "township": name, "since": since}
                    for name, since in sorted(foreign.items(), key=lambda kv: kv[1])
                ],
            }
        )
    return items + _misuse(hub, town)


def _groups(rows: Iterable[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    """Consecutive rows of one conflict (the query orders by it)."""
    current: list[dict[str, Any]] = []
    for row in rows:
        if current and row["cid"] != current[0]["cid"]:
            yield current
            current = []
        current.append(row)
    if current:
        yield current


def _misuse(hub: Hub, town: str) -> list[dict[str, Any]]:
    """号码误用 rows of the township's own files; the ID holder's name only when the holder is
    counted in the township (else "他镇登记人员")."""
    items = [c for c in hub.conflicts(town) if c["kind"] == "号码误用"]
    codes = sorted({str(c["code"]) for c in items if c.get("code")})
    here = (
        {
            str(code)
            for (code,) in hub.db.rows(
                "SELECT person_code FROM hub_person WHERE township_code = ? AND list_contains(?, person_code)",
                [town, codes],
            )
        }
        if codes
        else set()
    )
    for c in items:
        if c.get("code") not in here:
            c["name"], c["chosen"], c["chosen_hidden"] = "他镇登记人员", None, True
    return items
