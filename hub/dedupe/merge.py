"""``merge(db)``: rebuild the merged records from the accepted ``hub_rows``, in one transaction.

Pipeline (every step one set-based DuckDB statement, no Python loop over rows):

1. ``_m_keys`` (one row per submission and sheet: ``submitted_at`` and the high bits of the recency key)
   and the temp view ``_m_rows``: the accepted rows with ``k`` (:func:`hub.dedupe.values.rows_sql`).
   Nothing row-sized is materialised for it.
2. Persons (one per id_number, including household heads named only in a 低保 roster's head columns),
   businesses (one per USCC), households and memberships (:mod:`hub.dedupe.households`), each through
   :func:`hub.dedupe.survive.survive`: codes for new natural keys (:mod:`hub.dedupe.codes`), the
   single-row entities projected, the others aggregated with one ``arg_max`` per field.
3. The conflicts, their sources read back from ``hub_rows`` for the flagged entities only, and the
   ``hub_values`` view (:mod:`hub.dedupe.values`): provenance is read from ``hub_rows``, not copied.
4. The values of the fields report admission added, per person and business
   (:func:`hub.extension.merge_values`, ``hub_extra``): the latest row's value, as for the others.

Exact duplicate rows (every canonical field equal) within one submission are one row: they cannot change
a chosen value or a disagreement flag, members are kept once per person, and the provenance readers
(``hub_values``, conflict sources) drop them.

A person is ``alive = false`` when the chosen ``person_status`` is '2' (死亡) or any source gives a
``death_date``. The township of a person, household or business is that of its latest submission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from hub.dedupe.households import merge_households
from hub.dedupe.rules import BUSINESS_FIELDS, DISABILITY_FIELDS, PERSON_FIELDS
from hub.dedupe.survive import CONF_DDL, survive
from hub.dedupe.values import (
    KEYS_SQL,
    business_src,
    hub_values_view_sql,
    person_src,
    rows_sql,
    write_conflicts,
)
from hub.extension import merge_values
from hub.store.db import DDL_DIR, Database

if TYPE_CHECKING:
    from hub.store.engine import Statements

# Rebuilt by every merge (hub_values is a view, replaced; hub_codes is never dropped).
OUTPUT_TABLES = (
    "hub_person", "hub_disability", "hub_household", "hub_membership", "hub_business", "hub_conflicts",
)  # fmt: skip

_TEMP_TABLES = (
    "_m_keys", "_m_conf", "_m_hsrc", "_m_household",
    *(f"_m_{entity}{suffix}" for entity in ("person", "business", "household") for suffix in ("_m", "_multi")),
)  # fmt: skip
_TEMP_VIEWS = ("_m_rows", "_m_psrc", "_m_bsrc")


@dataclass(frozen=True)
class MergeSummary:
    persons: int
    households: int
    businesses: int
    conflicts: int
    duplicate_registrations: int
    #: The townships whose merged records changed (an incremental merge knows); None: any may have.
    townships: frozenset[str] | None = None


def merge(db: Database, now: datetime | None = None) -> MergeSummary:
    """Rebuild hub_person … hub_conflicts from the accepted hub_rows. ``now`` stamps new codes.
    The full merge: :func:`hub.dedupe.incremental.merge_incremental` recomputes only what changed
    and is checked against this one."""
    stamp = now or datetime.now()
    with db.transaction():
        merge_tables(db, stamp)
        db.execute(hub_values_view_sql())
        merge_values(db)  # the values of fields report admission added (hub.extension)
        from hub.dedupe.incremental import write_snapshot

        write_snapshot(db, stamp, "full", subs=None)
        summary = summarise(db)
        drop_temps(db)
    return summary


def merge_tables(db: Statements, stamp: datetime) -> None:
    """The full merge's statements: hub_person … hub_conflicts rebuilt, new codes in hub_codes.
    Set-based SQL in DuckDB's dialect and nothing else, so that another engine can run it
    (:mod:`hub.store.spark_merge` transpiles each statement to Spark). Leaves the temp tables
    (``_m_keys``, ``_m_hsrc``…) for the caller, who drops them (:func:`drop_temps`)."""
    # Drop and re-create rather than DELETE; the rebuilt tables carry no index (uniqueness of
    # their keys is what the merge computes, and what its tests assert).
    for table in OUTPUT_TABLES:
        db.execute(f"DROP TABLE IF EXISTS {table}")
    db.execute((DDL_DIR / "20_merge.sql").read_text(encoding="utf-8"))
    db.execute(f"CREATE OR REPLACE TEMP TABLE _m_keys AS {KEYS_SQL}")
    db.execute(f"CREATE OR REPLACE TEMP VIEW _m_rows AS {rows_sql('_m_keys')}")
    db.execute(CONF_DDL)
    _merge_persons(db, stamp)
    _merge_businesses(db, stamp)
    merge_households(db, stamp)
    write_conflicts(db, "_m_keys", "_m_hsrc")


def adopt(db: Database) -> MergeSummary:
    """The store's merged tables were just computed by another engine and loaded: define the
    ``hub_values`` view over them and forget the last merge's snapshot, so the next incremental
    merge on the store starts with a full one (its row fingerprints are the store's own)."""
    db.execute(hub_values_view_sql())
    db.execute("DELETE FROM hub_merge_state")
    return summarise(db)


def summarise(db: Database) -> MergeSummary:
    return MergeSummary(
        persons=int(db.scalar("SELECT count(*) FROM hub_person")),
        households=int(db.scalar("SELECT count(*) FROM hub_household")),
        businesses=int(db.scalar("SELECT count(*) FROM hub_business")),
        conflicts=int(db.scalar("SELECT count(*) FROM hub_conflicts")),
        duplicate_registrations=int(
            db.scalar("SELECT count(*) FROM hub_conflicts WHERE conflict_kind = '重复登记'")
        ),
    )


def drop_temps(db: Database) -> None:
    for view in _TEMP_VIEWS:
        db.execute(f"DROP VIEW IF EXISTS {view}")
    for temp in _TEMP_TABLES:
        db.execute(f"DROP TABLE IF EXISTS {temp}")


def _merge_persons(db: Statements, stamp: datetime, keys: str | None = None) -> None:
    """hub_person and hub_disability from ``_m_rows``; ``keys``: only these ID numbers (incremental)."""
    src = person_src("SELECT * FROM _m_rows")
    if keys is not None:
        src = f"SELECT * FROM ({src}) q WHERE id_number IN ({keys})"
    db.execute(f"CREATE OR REPLACE TEMP VIEW _m_psrc AS {src}")
    persons = survive(db, "person", "_m_psrc", "id_number", (*PERSON_FIELDS, *DISABILITY_FIELDS), stamp,
                      extra_agg="arg_max(id_number, k) AS id_number", extra_one="id_number")  # fmt: skip
    db.execute(
        f"""
        INSERT INTO hub_person
        SELECT code, id_number, id_type, name, sex, birth_date, ethnicity, marital_status,
               township_code, village_code, address, phone,
               NOT (coalesce(person_status = '2', false) OR death_date IS NOT NULL), death_date, updated_at
        FROM ({persons})
        """
    )
    # The second read of the persons' query: the filter reaches the source rows, so only the few
    # with a disability fact are joined to their codes again.
    db.execute(
        f"""
        INSERT INTO hub_disability
        SELECT code, disability_category, disability_level, disability_cert FROM ({persons})
        WHERE coalesce(disability_category, disability_level, disability_cert) IS NOT NULL
        """
    )


def _merge_businesses(db: Statements, stamp: datetime, keys: str | None = None) -> None:
    """hub_business from ``_m_rows``; ``keys``: only these USCCs (incremental)."""
    src = business_src("SELECT * FROM _m_rows")
    if keys is not None:
        src = f"SELECT * FROM ({src}) q WHERE uscc IN ({keys})"
    db.execute(f"CREATE OR REPLACE TEMP VIEW _m_bsrc AS {src}")
    businesses = survive(db, "business", "_m_bsrc", "uscc", BUSINESS_FIELDS, stamp,
                         extra_agg="arg_max(uscc, k) AS uscc", extra_one="uscc")  # fmt: skip
    db.execute(
        f"""
        INSERT INTO hub_business
        SELECT code, uscc, name, operator_name, address, township_code, village_code, phone
        FROM ({businesses})
        """
    )
