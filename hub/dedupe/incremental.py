"""``merge_incremental(db)``: recompute only the persons, households and businesses that changed rows
can touch, with the same SQL as the full merge (:func:`hub.dedupe.merge.merge`), which stays the oracle.

What the last merge read is kept in ``hub_merge_rows`` (one row per row in force: a hash of its content
and the natural keys it fed) and ``hub_merge_redirects`` (the redirects it followed). A merge then:

1. **What changed.** The rows in force now (:func:`hub.dedupe.values.rows_sql`, the single source of
   "which rows are in force") against ``hub_merge_rows`` on (submission, sheet, row, hash): rows added,
   rows gone (withdrawn, rejected later, superseded) and rows changed (an ID filled by linkage, a value
   corrected), and the codes whose ``redirect_to`` changed (linkage merged or split persons).
2. **The affected keys.** Person keys: the ID numbers and head ID numbers of those rows, old and new;
   business keys: their USCCs; household keys: those the rows fed before and after (every row of a
   changed submission is re-keyed, since one filled ID may change a 低保 household's head); plus the
   keys of codes whose redirect changed. Closed over ``hub_codes`` redirects (every key sharing a
   resolved code, before or after) and over households (every household with a member among the
   affected persons: a member's code is part of the household's rows).
3. **Recompute only those.** Delete their rows from hub_person, hub_disability, hub_household,
   hub_membership, hub_business and hub_conflicts, run the full merge's ``survive`` / household SQL on
   their rows alone (every row of an affected entity is read, so every pick is the full merge's pick;
   new codes are numbered as the full merge numbers them, since new keys only come from changed rows)
   and insert the results. Untouched entities keep their rows.

A store merged by an older hub (no ``hub_merge_state``) gets one full merge first.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from hub.dedupe.codes import RESOLVED
from hub.dedupe.households import merge_households
from hub.dedupe.merge import (
    MergeSummary,
    _merge_businesses,
    _merge_persons,
    drop_temps,
    merge,
    summarise,
)
from hub.dedupe.survive import CONF_DDL
from hub.dedupe.values import KEYS_SQL, household_src, rows_sql, rows_within, write_conflicts
from hub.extension import merge_values
from hub.store.db import Database

_TEMPS = (
    "_i_subfp", "_i_chg", "_i_cur", "_i_diff", "_i_subs", "_i_old", "_i_now", "_i_redir", "_i_seed_person", "_i_seed_business",
    "_i_seed_household", "_i_codes_person", "_i_codes_business", "_i_codes_household", "_i_keys_person",
    "_i_keys_business", "_i_keys_household", "_i_hh", "_i_rid", "_i_all", "_i_towns", "_i_extra0", "_i_prows", "_i_brows", "_i_hrows",
)  # fmt: skip


def _rows(db: Database, select: str, table: str) -> None:
    """``_m_rows`` (what the merge's SQL reads) over the rows of ``select``, read once into ``table``."""
    db.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS {select}")
    db.execute(f"CREATE OR REPLACE TEMP VIEW _m_rows AS SELECT * FROM {table}")


# hub_rows columns that are not content (the hash covers every other column, plus submitted_at).
_NOT_CONTENT = {"accepted"}


def _fp(db: Database) -> str:
    cols = [c for c, _ in db.columns("hub_rows") if c not in _NOT_CONTENT]
    return "hash(" + ", ".join(f'q."{c}"' for c in cols) + ", q.submitted_at)"


def _fp_rows(db: Database, where: str = "") -> str:
    """The rows in force (restricted by ``where`` on ``r``) as (submission_id, sheet, row_no, fp,
    id_number, head_id_number, uscc). Needs the temp table ``_m_keys``."""
    return (
        f"SELECT q.submission_id, q.sheet, q.row_no, {_fp(db)} AS fp, q.id_number, q.head_id_number, q.uscc "
        f"FROM ({rows_sql('_m_keys', where)}) q"
    )


#: The hub_rows columns that change after a row is stored (fills, misuse flags, an undone fill); every
#: other column is written once, with its submission (ids from a sequence, never reused), and a row
#: leaves only with its whole submission (withdrawal). ``tests/dedupe/test_incremental.py``
#: checks every ``UPDATE hub_rows`` of the code against this list.
MUTABLE = ("accepted", "id_number", "id_type")


def _subfp(db: Database) -> str:
    """Per submission, one hash of everything that decides its rows in force and their fingerprints
    (:func:`_fp_rows`): its rows (their keys and the :data:`MUTABLE` columns: the rest of a stored row
    never changes, and hashing every column of a million rows cost 0.25-0.5 s an upload), how many,
    its time, whether it is superseded and which departures keep rows of it in force
    (:data:`hub.dedupe.values.IN_FORCE`)."""
    cols = ", ".join(("sheet", "row_no", *MUTABLE))
    return f"""
    SELECT submission_id, hash(r.h, r.n, s.submitted_at, s.submission_id IN (SELECT submission_id FROM hub_superseded),
                               k.h) AS fp
    FROM (SELECT submission_id, bit_xor(hash({cols})) AS h, count(*) AS n FROM hub_rows GROUP BY submission_id) r
    FULL JOIN (SELECT submission_id, submitted_at FROM hub_submissions) s USING (submission_id)
    LEFT JOIN (SELECT submission_id, bit_xor(hash(id_number)) AS h FROM hub_departures_kept GROUP BY submission_id) k
      USING (submission_id)"""


def write_snapshot(db: Database, now: datetime, mode: str, subs: str | None) -> None:
    """Record what this merge read: every row in force (``subs`` None, the full merge; ``_m_hsrc``
    then holds every household source row) or the rows of the submissions of ``subs`` (a query of
    ``submission_id``), re-keyed. Inside the merge's transaction, with ``_m_keys``."""
    if subs is None:
        db.execute("DELETE FROM hub_merge_rows")
        db.execute(
            f"""INSERT INTO hub_merge_rows
            SELECT c.*, h.natural_key FROM ({_fp_rows(db)}) c
            LEFT JOIN (SELECT DISTINCT submission_id, sheet, row_no, natural_key FROM _m_hsrc) h
              USING (submission_id, sheet, row_no)"""
        )
    else:
        db.execute(f"DELETE FROM hub_merge_rows WHERE submission_id IN ({subs})")
        db.execute("INSERT INTO hub_merge_rows SELECT * FROM _i_now")
    _write_subfp(db, "_i_subfp" if subs is not None else None)
    db.execute("DELETE FROM hub_merge_redirects")
    db.execute(
        "INSERT INTO hub_merge_redirects SELECT entity, natural_key, redirect_to FROM hub_codes "
        "WHERE redirect_to IS NOT NULL"
    )
    db.execute("DELETE FROM hub_merge_state")
    counts = (
        [None, None, None]
        if subs is not None
        else [db.scalar(f"SELECT count(*) FROM hub_{t}") for t in ("person", "household", "business")]
    )
    db.execute("INSERT INTO hub_merge_state VALUES (?, ?, ?, ?, ?)", [now, mode, *counts])


def _write_subfp(db: Database, table: str | None) -> None:
    """hub_merge_subfp as the store is now: from ``table`` (this merge's :func:`_subfp`, the store
    has not changed since) or computed."""
    db.execute("DELETE FROM hub_merge_subfp")
    db.execute(f"INSERT INTO hub_merge_subfp {f'SELECT * FROM {table}' if table else _subfp(db)}")


def has_snapshot(db: Database) -> bool:
    return bool(db.scalar("SELECT count(*) FROM hub_merge_state"))


def merge_incremental(db: Database, now: datetime | None = None) -> MergeSummary:
    """Bring hub_person … hub_conflicts up to date by recomputing only the entities whose rows (or
    codes) changed since the last merge; the result is the full merge's, table by table. A store
    without a snapshot of its last merge gets the full merge."""
    stamp = now or datetime.now()
    if not has_snapshot(db):
        return merge(db, stamp)
    with db.transaction():
        try:
            db.execute(
                "CREATE OR REPLACE TEMP TABLE _i_extra0 AS SELECT entity, entity_code, field_key, value FROM hub_extra"
            )
            touched = _incremental(db, stamp)
            merge_values(db)  # admitted fields: small, always rebuilt whole (hub.extension)
            summary = replace(summarise(db), townships=_townships(db, touched is not None))
            if touched is not None:
                db.execute(
                    "UPDATE hub_merge_state SET merged_at = ?, mode = 'incremental', persons = ?, "
                    "households = ?, businesses = ?",
                    [stamp, *touched],
                )
        finally:
            drop_temps(db)
            for t in _TEMPS:
                db.execute(f"DROP TABLE IF EXISTS {t}")
    return summary


def _townships(db: Database, touched: bool) -> frozenset[str] | None:
    """The townships this merge changed: those of the recomputed persons, households and businesses,
    before (``_i_towns``, read before their rows were deleted) and after; none when nothing changed.
    None (any township) when an admitted field's value changed (``_i_extra0``: ``hub_extra`` before)
    for an entity the merge did not recompute."""
    if not touched:
        return frozenset()
    db.execute(f"INSERT INTO _i_towns {_TOWNS}")
    outside = db.scalar(
        f"""SELECT count(*) FROM (
               (SELECT entity, entity_code AS code, field_key, value FROM _i_extra0
                EXCEPT SELECT entity, entity_code, field_key, value FROM hub_extra)
               UNION ALL
               (SELECT entity, entity_code, field_key, value FROM hub_extra
                EXCEPT SELECT entity, entity_code AS code, field_key, value FROM _i_extra0)) x
           WHERE NOT (x.entity = 'person' AND x.code IN {_CODES.format(e="person", resolved=RESOLVED)})
             AND NOT (x.entity = 'business' AND x.code IN {_CODES.format(e="business", resolved=RESOLVED)})"""
    )
    if outside:
        return None
    return frozenset(
        str(t)
        for (t,) in db.rows("SELECT DISTINCT township_code FROM _i_towns WHERE township_code IS NOT NULL")
    )


# The codes of the entities the merge recomputes, as hub_codes holds them now: those the affected keys
# resolved to (``_i_codes_*``) and those they resolve to (new keys get their codes during the merge).
_CODES = (
    "(SELECT code FROM _i_codes_{e} UNION SELECT code FROM {resolved} c WHERE c.entity = '{e}' "
    "AND c.natural_key IN (SELECT natural_key FROM _i_keys_{e}))"
)
# Their townships as the tables hold them now (read before the deletes, and again after the inserts).
_TOWNS = f"""
SELECT township_code FROM hub_person WHERE person_code IN {_CODES.format(e="person", resolved=RESOLVED)}
UNION SELECT township_code FROM hub_household WHERE household_code IN {_CODES.format(e="household", resolved=RESOLVED)}
UNION SELECT township_code FROM hub_business WHERE business_code IN {_CODES.format(e="business", resolved=RESOLVED)}
"""


def _incremental(db: Database, stamp: datetime) -> tuple[int, int, int] | None:
    """The incremental merge's steps (inside a transaction). Returns the number of persons,
    households and businesses recomputed, or None when nothing changed."""
    db.execute(f"CREATE OR REPLACE TEMP TABLE _m_keys AS {KEYS_SQL}")
    # 1. What changed: rows in force now vs the snapshot, on (row, content hash); only in the
    # submissions whose hash changed (all of them when the last merge left no hashes: an older store).
    db.execute(f"CREATE OR REPLACE TEMP TABLE _i_subfp AS {_subfp(db)}")
    where, snap = "", "hub_merge_rows"
    if db.scalar("SELECT count(*) FROM hub_merge_subfp"):
        db.execute(
            "CREATE OR REPLACE TEMP TABLE _i_chg AS SELECT submission_id FROM _i_subfp c "
            "FULL JOIN hub_merge_subfp s USING (submission_id) WHERE c.fp IS DISTINCT FROM s.fp"
        )
        where = "r.submission_id IN (SELECT submission_id FROM _i_chg)"
        snap = "(SELECT * FROM hub_merge_rows WHERE submission_id IN (SELECT submission_id FROM _i_chg))"
    db.execute(f"CREATE OR REPLACE TEMP TABLE _i_cur AS {_fp_rows(db, where)}")
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE _i_diff AS
        SELECT c.submission_id, c.sheet, c.row_no, c.id_number, c.head_id_number, c.uscc FROM _i_cur c
        ANTI JOIN {snap} s USING (submission_id, sheet, row_no, fp)
        UNION ALL
        SELECT s.submission_id, s.sheet, s.row_no, s.id_number, s.head_id_number, s.uscc FROM {snap} s
        ANTI JOIN _i_cur c USING (submission_id, sheet, row_no, fp)"""
    )
    db.execute(
        """CREATE OR REPLACE TEMP TABLE _i_redir AS
        (SELECT entity, natural_key, redirect_to FROM hub_codes WHERE redirect_to IS NOT NULL
         EXCEPT SELECT entity, natural_key, redirect_to FROM hub_merge_redirects)
        UNION
        (SELECT entity, natural_key, redirect_to FROM hub_merge_redirects
         EXCEPT SELECT entity, natural_key, redirect_to FROM hub_codes WHERE redirect_to IS NOT NULL)"""
    )
    if not db.scalar("SELECT count(*) FROM _i_diff") and not db.scalar("SELECT count(*) FROM _i_redir"):
        _write_subfp(db, "_i_subfp")
        return None
    # The changed submissions: their rows are re-keyed (household keys) and replace the snapshot's.
    db.execute("CREATE OR REPLACE TEMP TABLE _i_subs AS SELECT DISTINCT submission_id FROM _i_diff")
    db.execute(
        "CREATE OR REPLACE TEMP TABLE _i_old AS SELECT * FROM hub_merge_rows "
        "WHERE submission_id IN (SELECT submission_id FROM _i_subs)"
    )
    in_subs = "r.submission_id IN (SELECT submission_id FROM _i_subs)"
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE _i_now AS
        SELECT c.submission_id, c.sheet, c.row_no, c.fp, c.id_number, c.head_id_number, c.uscc, h.natural_key AS hh_key
        FROM _i_cur c
        LEFT JOIN (SELECT DISTINCT submission_id, sheet, row_no, natural_key
                   FROM ({household_src(rows_sql("_m_keys", in_subs))}) x) h USING (submission_id, sheet, row_no)
        WHERE c.submission_id IN (SELECT submission_id FROM _i_subs)"""
    )
    # 2. The affected keys, then closed over redirects (and households over their members).
    redir = "SELECT natural_key FROM _i_redir WHERE entity = '{e}'"
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE _i_seed_person AS
        SELECT id_number AS natural_key FROM _i_diff WHERE id_number IS NOT NULL
        UNION SELECT head_id_number FROM _i_diff WHERE head_id_number IS NOT NULL
        UNION {redir.format(e="person")}"""
    )
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE _i_seed_business AS
        SELECT uscc AS natural_key FROM _i_diff WHERE uscc IS NOT NULL UNION {redir.format(e="business")}"""
    )
    for entity in ("person", "business"):
        _close(db, entity)
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE _i_seed_household AS
        SELECT hh_key AS natural_key FROM (
            (SELECT submission_id, sheet, row_no, fp, hh_key FROM _i_old
             EXCEPT SELECT submission_id, sheet, row_no, fp, hh_key FROM _i_now)
            UNION ALL
            (SELECT submission_id, sheet, row_no, fp, hh_key FROM _i_now
             EXCEPT SELECT submission_id, sheet, row_no, fp, hh_key FROM _i_old))
        WHERE hh_key IS NOT NULL
        UNION SELECT hh_key FROM hub_merge_rows
              WHERE hh_key IS NOT NULL AND id_number IN (SELECT natural_key FROM _i_keys_person)
        UNION SELECT hh_key FROM _i_now
              WHERE hh_key IS NOT NULL AND id_number IN (SELECT natural_key FROM _i_keys_person)
        UNION {redir.format(e="household")}"""
    )
    _close(db, "household")
    # The snapshot now describes the rows as they are (the household rows are found through it).
    write_snapshot(db, stamp, "incremental", "SELECT submission_id FROM _i_subs")
    # 3. Delete the affected entities' rows, recompute them from all their rows (their townships before:
    # the data version names the townships whose records changed, docs/exchange.md).
    db.execute(f"CREATE OR REPLACE TEMP TABLE _i_towns AS {_TOWNS}")
    for table, column, entity in (
        ("hub_person", "person_code", "person"), ("hub_disability", "person_code", "person"),
        ("hub_business", "business_code", "business"), ("hub_household", "household_code", "household"),
        ("hub_membership", "household_code", "household"),
    ):  # fmt: skip
        db.execute(f"DELETE FROM {table} WHERE {column} IN (SELECT code FROM _i_codes_{entity})")
    db.execute(
        "DELETE FROM hub_conflicts c USING (SELECT 'person' AS entity, code FROM _i_codes_person "
        "UNION ALL SELECT 'business', code FROM _i_codes_business "
        "UNION ALL SELECT 'household', code FROM _i_codes_household) x "
        "WHERE c.entity = x.entity AND c.entity_code = x.code"
    )
    db.execute(CONF_DDL)
    pkeys, bkeys, hkeys = (
        f"SELECT natural_key FROM _i_keys_{e}" for e in ("person", "business", "household")
    )
    # Every row that fed an affected household (the snapshot is current): whole 低保 groups, so their
    # heads come out as in the full merge.
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE _i_hh AS SELECT submission_id, sheet, row_no FROM hub_merge_rows "
        f"WHERE hh_key IN ({hkeys})"
    )
    person = f"r.id_number IN ({pkeys}) OR r.head_id_number IN ({pkeys})"
    business = f"r.uscc IN ({bkeys})"
    household = "(r.submission_id, r.sheet, r.row_no) IN (SELECT submission_id, sheet, row_no FROM _i_hh)"
    # The affected rows are found on the key columns alone (one semi-join per key: an OR of IN
    # lists is evaluated row by row), then read whole by row id (the scan skips the rest of the
    # million rows) and split; the merge's SQL reads _m_rows several times, and a view would scan
    # hub_rows each time. Row ids hold within this transaction.
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE _i_rid AS
        SELECT rowid AS rid FROM hub_rows r SEMI JOIN ({pkeys}) k ON r.id_number = k.natural_key
        UNION SELECT rowid FROM hub_rows r SEMI JOIN ({pkeys}) k ON r.head_id_number = k.natural_key
        UNION SELECT rowid FROM hub_rows r SEMI JOIN ({bkeys}) k ON r.uscc = k.natural_key
        UNION SELECT rowid FROM hub_rows r SEMI JOIN _i_hh USING (submission_id, sheet, row_no)"""
    )
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE _i_all AS {rows_sql('_m_keys', 'r.rowid IN (SELECT rid FROM _i_rid)')}"
    )
    _rows(db, rows_within("_i_all", person), "_i_prows")
    _merge_persons(db, stamp, pkeys)
    _rows(db, rows_within("_i_all", business), "_i_brows")
    _merge_businesses(db, stamp, bkeys)
    _rows(db, rows_within("_i_all", household), "_i_hrows")
    merge_households(db, stamp, hkeys)
    # a flagged person's or business's rows are all among the affected rows read above
    write_conflicts(db, "_m_keys", "_m_hsrc", within={"person": "_i_prows", "business": "_i_brows"})
    return tuple(
        int(db.scalar(f"SELECT count(*) FROM _i_codes_{e}")) for e in ("person", "household", "business")
    )  # type: ignore[return-value]


def _close(db: Database, entity: str) -> None:
    """``_i_codes_<entity>``: the codes the seed keys resolve to now or resolved to at the last merge;
    ``_i_keys_<entity>``: every key resolving to one of them now, plus the seeds (new keys)."""
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE _i_codes_{entity} AS
        SELECT DISTINCT code FROM (
            SELECT coalesce(c.redirect_to, c.code) AS code FROM hub_codes c
            WHERE c.entity = '{entity}' AND c.natural_key IN (SELECT natural_key FROM _i_seed_{entity})
            UNION ALL
            SELECT coalesce(o.redirect_to, c.code) FROM hub_codes c
            LEFT JOIN hub_merge_redirects o ON o.entity = c.entity AND o.natural_key = c.natural_key
            WHERE c.entity = '{entity}' AND c.natural_key IN (SELECT natural_key FROM _i_seed_{entity}))"""
    )
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE _i_keys_{entity} AS
        SELECT natural_key FROM {RESOLVED} r
        WHERE entity = '{entity}' AND code IN (SELECT code FROM _i_codes_{entity})
        UNION SELECT natural_key FROM _i_seed_{entity}"""
    )
