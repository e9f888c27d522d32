"""Households and memberships: 低保家庭 from the 低保 roster, 户籍户 from population rows.

Natural keys (``hub_codes.natural_key`` of entity ``household``):

* 低保家庭 ``dibao:<head id_number>``: the head is ``head_id_number`` of the household's rows, else the
  member whose relation is 本人/户主 ('01'/'02'), else the household's first listed member. The rows of
  one household are those of one submission sharing ``household_key``.
* 户籍户 ``hukou:<township_code>:<household_no>``: a 户号 is unique within one police station's area,
  not county-wide, so it is scoped by the township that reported it.

Members come from the household's LATEST submission only (a member dropped from this month's roster is
no longer a member); ``seq`` is their order in that ledger, the head's relation is stored as '02'.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from hub.dedupe.codes import RESOLVED
from hub.dedupe.rules import HOUSEHOLD_FIELDS
from hub.dedupe.survive import survive
from hub.dedupe.values import household_src

if TYPE_CHECKING:
    from hub.store.engine import Statements

# Members of each household's latest submission, one row per person (the latest row), in ledger order.
# The head's relation is stored as '02'; no other member can have it ('01'/'02' make a head).
_MEMBERS = f"""
INSERT INTO hub_membership
SELECT household_code, person_code, CASE WHEN is_head THEN '02' ELSE relation END, covered,
       row_number() OVER (PARTITION BY household_code ORDER BY k DESC) AS seq
FROM (
    SELECT h.code AS household_code, pc.code AS person_code, s.covered, s.relation, s.k,
           (s.head_id = s.id_number OR s.relation IN ('01', '02')) AS is_head
    FROM _m_hsrc s
    JOIN {RESOLVED} hc ON hc.entity = 'household' AND hc.natural_key = s.natural_key
    JOIN _m_household h ON h.code = hc.code AND h.latest = s.sub_rank
    JOIN {RESOLVED} pc ON pc.entity = 'person' AND pc.natural_key = s.id_number
    QUALIFY row_number() OVER (PARTITION BY h.code, pc.code ORDER BY s.k DESC) = 1
)
"""


def merge_households(db: Statements, now: datetime, keys: str | None = None) -> None:
    """Rebuild hub_household and hub_membership (persons' codes must exist already; ``_m_rows`` is
    the merge's view of the accepted rows). ``keys``: a query of natural keys (``natural_key``) to
    restrict the households to (the incremental merge: ``_m_rows`` then holds every row of them)."""
    src = household_src("SELECT * FROM _m_rows")
    if keys is not None:
        src = f"SELECT * FROM ({src}) q WHERE natural_key IN ({keys})"
    db.execute(f"CREATE OR REPLACE TEMP TABLE _m_hsrc AS {src}")
    households = survive(
        db,
        "household",
        "_m_hsrc",
        "natural_key",
        HOUSEHOLD_FIELDS,
        now,
        extra_agg="any_value(hkind) AS hkind, max(sub_rank) AS latest",
        extra_one="hkind, sub_rank AS latest",
    )
    # Read twice (members of the latest submission, then the household rows): materialised once.
    db.execute(f"CREATE OR REPLACE TEMP TABLE _m_household AS {households}")
    db.execute(_MEMBERS)
    where = "" if keys is None else "WHERE household_code IN (SELECT code FROM _m_household)"
    db.execute(
        f"""
        INSERT INTO hub_household
        SELECT h.code, h.hkind, h.township_code, h.village_code, m.head, h.dibao_category,
               m.listed,
               CASE WHEN h.hkind = '低保家庭' THEN coalesce(h.covered_count, m.covered) END,
               h.dibao_amount, h.dibao_start, true
        FROM _m_household h
        JOIN (
            SELECT household_code, count(*) AS listed, count(*) FILTER (WHERE covered) AS covered,
                   arg_min(person_code, seq) FILTER (WHERE relation = '02') AS head
            FROM hub_membership {where} GROUP BY household_code
        ) m ON m.household_code = h.code
        """
    )
