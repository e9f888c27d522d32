"""One ID, two people (``id-misused``).

Rows that share a valid ID are grouped. The ID's holder is the name carried by most rows whose stated
sex and birth date agree with the number (population roster first, then the name in code-point
order). A row is misused when its name is clearly another person's — not equal after
traditional→simplified conversion, not a homophone (pinyin reading sets do not meet), more than one
character apart, or one character apart when its stated sex or birth date contradict the number
(``sex-id-mismatch`` / ``birthdate-id-mismatch`` findings of validation: 史华 / 史雪). A row is also
misused when the birth date the clerk wrote (a full date) contradicts its number while ANOTHER valid
number, on a clean row of the same (simplified) name, carries exactly that birth date and the sex the
clerk wrote: the number was copied from someone else (a household head the row's person shares a name
with, or a head with no row of their own), and the row's person is the other number's holder. Such a row is kept out of the
merge (``accepted = false`` plus an ``id-misused`` error) until the clerk corrects it; a row that no
longer qualifies is restored on the next run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.dedupe.linkage.config import PERSON_KINDS
from hub.dedupe.linkage.names import stored_name_keys
from hub.standards.dates import parse_date
from hub.store.db import Database

CODE = "id-misused"
_KINDS = ", ".join(f"'{k}'" for k in PERSON_KINDS)

_ROWS = f"""
SELECT r.submission_id, r.sheet, r.row_no, r.id_number, r.name, r.kind,
       bool_or(f.code = 'sex-id-mismatch') AS sex_bad, bool_or(f.code = 'birthdate-id-mismatch') AS birth_bad,
       first(f.value) FILTER (WHERE f.code = 'birthdate-id-mismatch') AS birth_raw,
       first(f.value) FILTER (WHERE f.code = 'sex-id-mismatch') AS sex_raw
FROM hub_rows r
LEFT JOIN hub_findings f USING (submission_id, sheet, row_no)
WHERE r.id_number IS NOT NULL AND r.name IS NOT NULL AND r.kind IN ({_KINDS})
GROUP BY ALL
HAVING NOT coalesce(bool_or(f.severity = 'error' AND f.code <> '{CODE}'), false)
"""

_DETECT = """
WITH rows AS (
    SELECT q.*, k.name_s, k.py_set,
           CASE WHEN q.sex_raw LIKE '%女%' OR trim(q.sex_raw) = '2' THEN '2'
                WHEN q.sex_raw LIKE '%男%' OR trim(q.sex_raw) = '1' THEN '1'
                WHEN NOT coalesce(q.sex_bad, false)   -- no contradiction: the number's sex
                THEN CASE WHEN try_cast(substr(q.id_number, 17, 1) AS INTEGER) % 2 = 1 THEN '1' ELSE '2' END
           END AS stated_sex
    FROM __misuse_rows q JOIN __misuse_names k USING (name)),
shared AS (SELECT id_number FROM rows GROUP BY id_number HAVING count(DISTINCT name_s) > 1),
votes AS (
    SELECT id_number, name_s, any_value(py_set) AS py_set,
           count(*) FILTER (WHERE NOT coalesce(sex_bad, false) AND NOT coalesce(birth_bad, false)) AS clean,
           bool_or(kind = 'population') AS pop
    FROM rows WHERE id_number IN (SELECT id_number FROM shared) GROUP BY id_number, name_s
),
holder AS (
    SELECT id_number, first(name_s ORDER BY clean DESC, pop DESC, name_s) AS h_name,
           first(py_set ORDER BY clean DESC, pop DESC, name_s) AS h_py
    FROM votes GROUP BY id_number
),
named AS (
    SELECT r.submission_id, r.sheet, r.row_no, r.id_number,
           concat_ws('；', '姓名“' || r.name || '”与该号码其他记录的姓名“' || h.h_name || '”不是同一人',
                     CASE WHEN r.sex_bad THEN '填报的性别与身份证号码不符' END,
                     CASE WHEN r.birth_bad THEN '填报的出生日期与身份证号码不符' END) AS reason
    FROM rows r JOIN holder h USING (id_number)
    WHERE r.name_s <> h.h_name AND len(list_intersect(r.py_set, h.h_py)) = 0
      AND (levenshtein(r.name_s, h.h_name) > 1 OR r.sex_bad OR r.birth_bad)
),
-- the stated birth date (and sex) contradict the number but are another valid number's, same name
stated AS (
    SELECT r.submission_id, r.sheet, r.row_no, r.id_number, min(o.id_number) AS other
    FROM rows r JOIN __misuse_dates d ON d.raw = r.birth_raw AND d.precision = 'day'
    JOIN rows o ON o.name_s = r.name_s AND o.id_number <> r.id_number
         AND NOT coalesce(o.sex_bad, false) AND NOT coalesce(o.birth_bad, false)
         AND substr(o.id_number, 7, 8) = strftime(d.birth_date, '%Y%m%d') AND o.stated_sex = r.stated_sex
    WHERE r.birth_bad
    GROUP BY ALL HAVING count(DISTINCT o.id_number) = 1
)
SELECT submission_id, sheet, row_no, coalesce(n.id_number, s.id_number) AS id_number,
       concat_ws('；', coalesce(n.reason, '填报的出生日期与身份证号码不符'),
                 '姓名、性别和填报的出生日期与另一身份证号码' || mask_id(s.other) || '一致') AS reason
FROM named n FULL OUTER JOIN stated s USING (submission_id, sheet, row_no)
ORDER BY 4, 1, 2, 3
"""


def detect_id_misuse(db: Database, ids: str | None = None) -> list[dict[str, Any]]:
    """Rows to keep out of the merge: ``submission_id, sheet, row_no, id_number, reason`` (Chinese).
    ``ids`` (SQL giving ``id_number``): only the rows of those numbers, closed as :func:`misuse_scope`
    closes them."""
    import pyarrow as pa

    rows = (
        _ROWS
        if ids is None
        else _ROWS.replace("GROUP BY ALL", f"AND r.id_number IN ({ids})\nGROUP BY ALL", 1)
    )
    db.execute(f"CREATE OR REPLACE TEMP TABLE __misuse_rows AS {rows}")
    try:
        names = [r[0] for r in db.rows("SELECT DISTINCT name FROM __misuse_rows")]
        stated = [
            r[0] for r in db.rows("SELECT DISTINCT birth_raw FROM __misuse_rows WHERE birth_raw IS NOT NULL")
        ]
        parsed = [parse_date(v) for v in stated]
        db.register("__misuse_names", stored_name_keys(db, names))
        db.register("__misuse_dates", pa.table({
            "raw": pa.array(stated, pa.string()), "birth_date": pa.array([d for d, _ in parsed], pa.date32()),
            "precision": pa.array([p for _, p in parsed], pa.string())}))  # fmt: skip
        try:
            return db.dicts(_DETECT)
        finally:
            db.unregister("__misuse_names")
            db.unregister("__misuse_dates")
    finally:
        db.execute("DROP TABLE IF EXISTS __misuse_rows")


def misuse_scope(db: Database, changed: str, out: str = "__misuse_scope") -> str:
    """Write ``out(id_number)``: the numbers whose rows' misuse may change when the rows of the
    numbers ``changed`` (SQL giving ``id_number``) changed, closed so that detecting on them alone
    decides exactly as detecting on every row: a number's rows are decided together (the holder is
    voted among them), and a row whose stated birth date contradicts its number is decided against
    every clean row of the same simplified name (the ``stated`` rule), so the numbers of every row
    sharing a simplified name with a changed row or with such a row are in. Names are looked up in
    ``hub_name_keys``, which holds every name a linkage run has seen. Returns the SQL of it."""
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE __misuse_mine AS SELECT DISTINCT name FROM hub_rows "
        f"WHERE kind IN ({_KINDS}) AND id_number IN ({changed}) AND name IS NOT NULL"
    )
    mine = "SELECT name FROM __misuse_mine"
    stored_name_keys(db, [r[0] for r in db.rows(mine)])  # the new names among them
    db.execute(f"""CREATE OR REPLACE TEMP TABLE {out} AS
        WITH bad AS (SELECT DISTINCT r.name FROM hub_rows r JOIN hub_findings f USING (submission_id, sheet, row_no)
                     WHERE f.code = 'birthdate-id-mismatch'),
        n AS (SELECT name_s FROM hub_name_keys WHERE name IN (SELECT name FROM bad UNION {mine})),
        raw AS (SELECT name FROM hub_name_keys WHERE name_s IN (SELECT name_s FROM n))
        SELECT DISTINCT id_number FROM hub_rows
        WHERE kind IN ({_KINDS}) AND id_number IS NOT NULL AND name IN (SELECT name FROM raw)
        UNION SELECT id_number FROM ({changed}) c WHERE id_number IS NOT NULL""")  # fmt: skip
    db.execute("DROP TABLE IF EXISTS __misuse_mine")
    return f"SELECT id_number FROM {out}"


def flag_id_misuse(db: Database, now: datetime | None = None, ids: str | None = None) -> int:
    """Synchronise ``hub_link_misuse``, the ``id-misused`` findings and ``hub_rows.accepted`` with
    :func:`detect_id_misuse`. Idempotent. Returns the number of rows flagged. ``ids`` (SQL giving
    ``id_number``, closed by :func:`misuse_scope`): the rows of those numbers alone."""
    now = now or datetime.now()
    found = detect_id_misuse(db, ids)
    only = "" if ids is None else f" AND id_number IN ({ids})"
    import pyarrow as pa

    table = pa.Table.from_pylist(
        found,
        schema=pa.schema([("submission_id", pa.int64()), ("sheet", pa.string()), ("row_no", pa.int32()),
                          ("id_number", pa.string()), ("reason", pa.string())]),
    )  # fmt: skip
    db.register("__misuse_found", table)
    try:
        with db.transaction():
            db.execute(
                f"DELETE FROM hub_findings WHERE code = '{CODE}'"
                + ("" if ids is None else f" AND value IN ({ids})")
            )
            db.execute("DELETE FROM hub_link_misuse WHERE true" + only)
            db.execute("INSERT INTO hub_link_misuse SELECT *, ? FROM __misuse_found", [now])
            db.execute(
                f"""INSERT INTO hub_findings
                SELECT m.submission_id, m.sheet, m.row_no, c.header, 'id_number', m.id_number, '{CODE}', 'error',
                       '“' || m.id_number || '”：' || m.reason || '。该号码可能是抄录了他人（如户主）的身份证号码，'
                       || '本行暂不合并，请核对后填写本人的身份证号码。'
                FROM __misuse_found m
                LEFT JOIN (SELECT submission_id, sheet, min(header) AS header FROM hub_columns
                           WHERE field = 'id_number' GROUP BY ALL) c USING (submission_id, sheet)"""
            )
            db.execute(
                """UPDATE hub_rows r SET accepted = NOT EXISTS (
                       SELECT 1 FROM hub_findings f WHERE f.submission_id = r.submission_id
                       AND f.sheet = r.sheet AND f.row_no = r.row_no AND f.severity = 'error')
                   WHERE r.id_number IS NOT NULL"""
                + only
            )
    finally:
        db.unregister("__misuse_found")
    return len(found)
