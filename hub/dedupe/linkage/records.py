"""The hub's person rows as linkage records (:data:`hub.dedupe.linkage.chinese.SOURCE_COLUMNS`).

Records: accepted person rows, plus rejected person rows whose only errors are ID errors a match may
make good (:data:`FILLABLE_CODES`). A row flagged ``id-misused`` is linked without its ID (the number
is someone else's). A rejected row's ID text is the cell as written, cleaned once per distinct value
(:func:`hub.standards.ids.clean_id_text`).
"""

from __future__ import annotations

from hub.dedupe.linkage.chinese import prepare
from hub.dedupe.linkage.config import FILLABLE_CODES, PERSON_KINDS
from hub.standards.dates import parse_date
from hub.standards.ids import clean_id_text
from hub.store.db import Database

INPUT = "hub_link_input"
_KINDS = ", ".join(f"'{k}'" for k in PERSON_KINDS)
_FILLABLE = ", ".join(f"'{c}'" for c in FILLABLE_CODES)

#: uid of a hub row: content-addressed, independent of submission order.
UID_SQL = "left(s.sha256, 16) || ':' || r.sheet || ':' || CAST(r.row_no AS VARCHAR)"

_ERRORS = f"""
SELECT submission_id, sheet, row_no,
       bool_and(code IN ({_FILLABLE}) AND (field = 'id_number' OR code <> 'required-missing')) AS fillable,
       first(value ORDER BY code) FILTER (WHERE field = 'id_number') AS raw_id,
       first(code ORDER BY code) FILTER (WHERE field = 'id_number') AS id_code
FROM hub_findings WHERE severity = 'error' AND code NOT IN ('id-misused', 'id-match-candidates') GROUP BY ALL
"""

# What the clerk wrote where validation replaced it with the ID's values (used for misused rows).
_STATED = """
SELECT submission_id, sheet, row_no,
       first(CASE WHEN value LIKE '%女%' OR trim(value) = '2' THEN '2'
                  WHEN value LIKE '%男%' OR trim(value) = '1' THEN '1' END) FILTER (WHERE code = 'sex-id-mismatch') AS sex,
       first(value) FILTER (WHERE code = 'birthdate-id-mismatch') AS birth_raw
FROM hub_findings WHERE code IN ('sex-id-mismatch', 'birthdate-id-mismatch') GROUP BY ALL
"""

SOURCE_SQL = f"""
SELECT {UID_SQL} AS uid, r.submission_id, r.sheet, r.row_no, r.accepted, e.id_code,
       r.name,
       CASE WHEN m.row_no IS NULL THEN r.sex ELSE coalesce(st.sex, r.sex) END AS sex,
       CASE WHEN m.row_no IS NULL OR st.birth_raw IS NULL THEN r.birth_date ELSE sd.birth_date END AS birth_date,
       CASE WHEN m.row_no IS NULL OR st.birth_raw IS NULL THEN r.birth_precision ELSE sd.precision END
           AS birth_precision,
       r.village_code, r.phone,
       CASE WHEN m.row_no IS NULL THEN coalesce(r.id_number, c.id_text) END AS id_text,
       CASE WHEN m.row_no IS NULL AND r.accepted THEN r.id_number END AS id_valid
FROM hub_rows r
JOIN hub_submissions s USING (submission_id)
LEFT JOIN __link_errors e USING (submission_id, sheet, row_no)
LEFT JOIN __link_raw_ids c ON c.raw = e.raw_id
LEFT JOIN hub_link_misuse m USING (submission_id, sheet, row_no)
LEFT JOIN __link_stated st USING (submission_id, sheet, row_no)
LEFT JOIN __link_stated_dates sd ON sd.raw = st.birth_raw
WHERE r.kind IN ({_KINDS}) AND r.name IS NOT NULL
  AND (r.accepted OR m.row_no IS NOT NULL OR (e.fillable AND e.id_code IS NOT NULL)
       OR (e.fillable AND r.id_number IS NULL))
"""


def build_source(db: Database, out: str = "hub_link_source", submissions: str | None = None) -> None:
    """(Re)build ``out`` (:data:`SOURCE_SQL`: one row per linkage record, as the rows are now); only
    the rows of ``submissions`` (SQL giving ``submission_id``) when given."""
    import pyarrow as pa

    db.execute(f"CREATE OR REPLACE TEMP TABLE __link_errors AS {_ERRORS}")
    raws = [r[0] for r in db.rows("SELECT DISTINCT raw_id FROM __link_errors WHERE raw_id IS NOT NULL")]
    db.register(
        "__link_raw_ids",
        pa.table(
            {
                "raw": pa.array(raws, pa.string()),
                "id_text": pa.array([clean_id_text(v) for v in raws], pa.string()),
            }
        ),
    )
    db.execute(f"CREATE OR REPLACE TEMP TABLE __link_stated AS {_STATED}")
    stated = [r[0] for r in db.rows(
        "SELECT DISTINCT birth_raw FROM __link_stated s JOIN hub_link_misuse USING (submission_id, sheet, row_no) "
        "WHERE birth_raw IS NOT NULL")]  # fmt: skip
    parsed = [parse_date(v) for v in stated]
    db.register("__link_stated_dates", pa.table({
        "raw": pa.array(stated, pa.string()), "birth_date": pa.array([d for d, _ in parsed], pa.date32()),
        "precision": pa.array([p for _, p in parsed], pa.string())}))  # fmt: skip
    try:
        where = "" if submissions is None else f" AND r.submission_id IN ({submissions})"
        db.execute(f"CREATE OR REPLACE TABLE {out} AS {SOURCE_SQL}{where}")
    finally:
        db.unregister("__link_raw_ids")
        db.unregister("__link_stated_dates")
        db.execute("DROP TABLE IF EXISTS __link_errors")
        db.execute("DROP TABLE IF EXISTS __link_stated")


def build_input(db: Database) -> int:
    """(Re)build ``hub_link_source`` and :data:`INPUT` from hub_rows. Returns the number of records."""
    build_source(db)
    return prepare(db, "SELECT * FROM hub_link_source", INPUT)
