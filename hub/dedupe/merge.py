"""``merge(db)``: rebuild the merged records from the accepted ``hub_rows``, in one transaction.

Pipeline (every step one set-based DuckDB statement, no Python loop over rows):

1. ``_m_src``: accepted rows with their submission's ``submitted_at`` and a BIGINT recency key
   ``k = sub_rank << 40 | sheet_rank << 24 | (2^24 - 1 - row_no)`` (later submission first; inside one
   submission the lowest sheet name, then the lowest row number). Exact duplicate rows (every canonical
   field equal) within one submission collapse to the first.
2. Codes for new natural keys (:mod:`hub.dedupe.codes`), then persons (one per id_number, including
   household heads named only in a 低保 roster's head columns), disabilities, businesses (one per USCC),
   households and memberships (:mod:`hub.dedupe.households`), each through
   :func:`hub.dedupe.survive.survive`, and the conflicts.

A person is ``alive = false`` when the chosen ``person_status`` is '2' (死亡) or any source gives a
``death_date``. The township of a person, household or business is that of its latest submission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.dedupe.codes import RESOLVED, allocate
from hub.dedupe.households import merge_households
from hub.dedupe.rules import BUSINESS_FIELDS, DISABILITY_FIELDS, PERSON_FIELDS
from hub.dedupe.survive import CONF_DDL, survive, write_conflicts
from hub.store.db import DDL_DIR, Database

OUTPUT_TABLES = (
    "hub_person", "hub_disability", "hub_household", "hub_membership",
    "hub_business", "hub_values", "hub_conflicts",
)  # fmt: skip
_CONTENT = [
    "township_code", "kind", "household_key", "id_number", "id_type", "name", "sex", "birth_date",
    "birth_precision", "ethnicity", "marital_status", "village_code", "address", "phone",
    "person_status", "death_date", "household_no", "head_name", "head_id_number", "relation",
    "dibao_category", "household_size", "covered_count", "covered", "dibao_amount", "dibao_start",
    "disability_category", "disability_level", "disability_cert", "uscc", "reg_no", "business_name",
    "operator_name", "remark",
]  # fmt: skip

_SRC = f"""
CREATE OR REPLACE TEMP TABLE _m_src AS
WITH sub AS (
    SELECT submission_id, submitted_at,
           row_number() OVER (ORDER BY submitted_at, submission_id) AS sub_rank
    FROM hub_submissions
), sheets AS (
    SELECT submission_id, sheet,
           row_number() OVER (PARTITION BY submission_id ORDER BY sheet DESC) AS sheet_rank
    FROM (SELECT DISTINCT submission_id, sheet FROM hub_rows WHERE accepted)
)
SELECT r.* EXCLUDE (accepted), s.submitted_at,
       (s.sub_rank << 40) + (h.sheet_rank << 24) + (16777215 - r.row_no) AS k
FROM hub_rows r
JOIN sub s USING (submission_id)
JOIN sheets h USING (submission_id, sheet)
WHERE r.accepted
QUALIFY k = max(k) OVER (PARTITION BY r.submission_id, {", ".join("r." + c for c in _CONTENT)})
"""

_PERSON_COLS = ", ".join(
    ["id_number", *(f.source for f in (*PERSON_FIELDS, *DISABILITY_FIELDS) if f.source != "id_type")]
)

# Person source rows: every row carrying an ID, plus heads named only in head columns.
_PSRC = f"""
CREATE OR REPLACE TEMP TABLE _m_psrc AS
SELECT c.code AS person_code, s.*
FROM (
    SELECT id_type, {_PERSON_COLS}, submission_id, sheet, row_no, kind, submitted_at, k
    FROM _m_src WHERE id_number IS NOT NULL AND kind <> 'business'
    UNION ALL BY NAME
    SELECT head_id_number AS id_number, head_name AS name, township_code, village_code, address,
           submission_id, sheet, row_no, kind, submitted_at, k
    FROM _m_src d
    WHERE kind = 'dibao' AND head_id_number IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM _m_src m
        WHERE m.kind = 'dibao' AND m.submission_id = d.submission_id
          AND m.household_key IS NOT DISTINCT FROM d.household_key AND m.id_number = d.head_id_number)
    QUALIFY row_number() OVER (PARTITION BY submission_id, household_key, head_id_number
                               ORDER BY k DESC) = 1
) s
JOIN {RESOLVED} c ON c.entity = 'person' AND c.natural_key = s.id_number
"""


@dataclass(frozen=True)
class MergeSummary:
    persons: int
    households: int
    businesses: int
    conflicts: int
    duplicate_registrations: int


def merge(db: Database, now: datetime | None = None) -> MergeSummary:
    """Rebuild hub_person … hub_conflicts from the accepted hub_rows. ``now`` stamps new codes."""
    stamp = now or datetime.now()
    with db.transaction():
        # Drop and re-create rather than DELETE: re-inserting every primary key a DELETE just
        # removed makes DuckDB's commit rebuild the ART indexes row by row (~40x slower).
        for table in OUTPUT_TABLES:
            db.execute(f"DROP TABLE IF EXISTS {table}")
        db.execute((DDL_DIR / "20_merge.sql").read_text(encoding="utf-8"))
        db.execute(_SRC)
        db.execute(CONF_DDL)
        allocate(
            db,
            "person",
            "SELECT id_number AS natural_key FROM _m_src WHERE kind <> 'business' "
            "UNION ALL SELECT head_id_number FROM _m_src WHERE kind = 'dibao'",
            stamp,
        )
        allocate(db, "business", "SELECT uscc AS natural_key FROM _m_src WHERE uscc IS NOT NULL", stamp)
        _merge_persons(db)
        _merge_businesses(db)
        merge_households(db, stamp)
        write_conflicts(db)
        summary = MergeSummary(
            persons=int(db.scalar("SELECT count(*) FROM hub_person")),
            households=int(db.scalar("SELECT count(*) FROM hub_household")),
            businesses=int(db.scalar("SELECT count(*) FROM hub_business")),
            conflicts=int(db.scalar("SELECT count(*) FROM hub_conflicts")),
            duplicate_registrations=int(
                db.scalar("SELECT count(*) FROM hub_conflicts WHERE conflict_kind = '重复登记'")
            ),
        )
        for temp in (
            "src",
            "psrc",
            "bsrc",
            "hkeys",
            "hsrc",
            "members",
            "conf",
            "person",
            "business",
            "household",
        ):
            db.execute(f"DROP TABLE IF EXISTS _m_{temp}")
    return summary


def _merge_persons(db: Database) -> None:
    db.execute(_PSRC)
    survive(db, "person", "_m_psrc", "person_code", (*PERSON_FIELDS, *DISABILITY_FIELDS),
            extra="arg_max(id_number, k) AS id_number")  # fmt: skip
    db.execute(
        """
        INSERT INTO hub_person
        SELECT code, id_number, id_type, name, sex, birth_date, ethnicity, marital_status,
               township_code, village_code, address, phone,
               NOT (coalesce(person_status = '2', false) OR death_date IS NOT NULL), death_date, updated_at
        FROM _m_person
        """
    )
    db.execute(
        """
        INSERT INTO hub_disability
        SELECT code, disability_category, disability_level, disability_cert FROM _m_person
        WHERE coalesce(disability_category, disability_level, disability_cert) IS NOT NULL
        """
    )


def _merge_businesses(db: Database) -> None:
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _m_bsrc AS
        SELECT c.code AS business_code, s.* FROM _m_src s
        JOIN {RESOLVED} c ON c.entity = 'business' AND c.natural_key = s.uscc
        """
    )
    survive(db, "business", "_m_bsrc", "business_code", BUSINESS_FIELDS,
            extra="arg_max(uscc, k) AS uscc")  # fmt: skip
    db.execute(
        """
        INSERT INTO hub_business
        SELECT code, uscc, name, operator_name, address, township_code, village_code, phone
        FROM _m_business
        """
    )
