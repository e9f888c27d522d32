"""Generic survivorship for one entity: pick every field, flag disagreements, only where needed.

Input is a relation of source rows (a temp view over ``hub_rows``) with a natural-key column, the source
columns named by the :class:`~hub.dedupe.rules.FieldRule` list, ``submission_id, sheet, row_no, kind,
submitted_at`` and the recency key ``k``. Output: a query of one row per code (``code``, the chosen
values, a ``c_<field>`` disagreement flag each, ``updated_at`` and the extras) that the caller inserts
straight into the output table, and every disagreeing (entity, field) appended to the temp table
``_m_conf``.

Most entities have exactly one source row: their values are that row's values and nothing can disagree,
so they are projected, not aggregated (per-field ``arg_max`` costs ~0.25 µs per row and field). Only the
natural keys with two or more rows, or whose code takes part in a redirect (several keys, one code), go
through the hash aggregate, grouped by their resolved code.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from hub.dedupe.codes import RESOLVED, allocate
from hub.dedupe.rules import DUPLICATE_REGISTRATION_RULE, FieldRule, pick, single

if TYPE_CHECKING:
    from hub.store.engine import Statements

CONF_DDL = """
CREATE OR REPLACE TEMP TABLE _m_conf (
    entity VARCHAR, entity_code VARCHAR, field VARCHAR, conflict_kind VARCHAR, chosen VARCHAR, rule VARCHAR
)
"""


def survive(
    db: Statements,
    entity: str,
    src: str,
    key: str,
    fields: Sequence[FieldRule],
    now: datetime,
    extra_agg: str = "",
    extra_one: str = "",
) -> str:
    """Allocate codes for the natural keys ``key`` of ``src``, aggregate the keys with several rows
    into ``_m_<entity>_multi`` and append their disagreements to ``_m_conf``. Returns the query of
    one row per code (the single-row keys projected, UNION the aggregated ones): the caller writes
    it where it belongs, so the million single-row entities are not copied through a temp table.
    The query reads the temp tables ``_m_<entity>_m`` and ``_m_<entity>_multi``, which the caller
    drops. ``extra_agg`` / ``extra_one`` add columns (aggregate / single-row form), in the same order:
    the two halves are united by position (``UNION ALL``, which every engine has)."""
    t = f"_m_{entity}"
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE {t}_n AS SELECT {key} AS nk, count(*) AS n FROM {src} GROUP BY ALL"
    )
    allocate(db, entity, f"SELECT nk AS natural_key FROM {t}_n", now)
    # Keys to aggregate: several rows, or a code shared with other keys through a redirect (g = code).
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {t}_m AS
        WITH redirected AS (
            SELECT natural_key, code FROM {RESOLVED} r
            WHERE entity = '{entity}' AND code IN (
                SELECT redirect_to FROM hub_codes WHERE entity = '{entity}' AND redirect_to IS NOT NULL)
        )
        SELECT n.nk, coalesce(r.code, n.nk) AS g, r.code IS NOT NULL AS coded
        FROM {t}_n n LEFT JOIN redirected r ON r.natural_key = n.nk
        WHERE n.n > 1 OR r.code IS NOT NULL
        """
    )
    picks = ",\n".join(pick(f) for f in fields)
    # The aggregated entities, with their codes: few (keys with several rows), and the only ones that
    # can disagree, so the conflicts are read from here.
    db.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {t}_multi AS
        WITH a AS (
            SELECT m.g, any_value(m.coded) AS coded, {picks},
                   max(s.submitted_at) AS updated_at{"," if extra_agg else ""} {extra_agg}
            FROM {src} s JOIN {t}_m m ON m.nk = s.{key}
            GROUP BY m.g
        )
        SELECT coalesce(c.code, a.g) AS code, a.* EXCLUDE (g, coded)
        FROM a LEFT JOIN hub_codes c ON NOT a.coded AND c.entity = '{entity}' AND c.natural_key = a.g
        """
    )
    conflicts = "\nUNION ALL\n".join(
        f"SELECT '{entity}', code, '{f.field}', "
        f"'{'重复登记' if f.field == 'township_code' else '值不一致'}', CAST({f.field} AS VARCHAR), "
        f"'{DUPLICATE_REGISTRATION_RULE if f.field == 'township_code' else f.rule_text}' "
        f"FROM {t}_multi WHERE c_{f.field}"
        for f in fields
    )
    db.execute(f"INSERT INTO _m_conf {conflicts}")
    db.execute(f"DROP TABLE IF EXISTS {t}_n")
    ones = ",\n".join(single(f) for f in fields)
    return f"""
        SELECT c.code, {ones}, s.submitted_at AS updated_at{"," if extra_one else ""} {extra_one}
        FROM {src} s ANTI JOIN {t}_m m ON m.nk = s.{key}
        JOIN hub_codes c ON c.entity = '{entity}' AND c.natural_key = s.{key}
        UNION ALL
        SELECT * FROM {t}_multi
    """
