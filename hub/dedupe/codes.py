"""Stable codes (一人一码) in ``hub_codes``.

A code is created the first time its natural key is seen and never changed or deleted. New codes of one
merge are numbered in natural-key order after the highest code of the entity, so the codes a merge hands
out do not depend on the order of files or rows. Formats: ``P000000001`` (person, key: id_number),
``H000000001`` (household, key: ``dibao:<head id_number>`` or ``hukou:<township>:<household_no>``),
``B000000001`` (business, key: USCC). When a code was absorbed by another, ``redirect_to`` names the
surviving code and every reader follows it (:data:`RESOLVED`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.store.engine import Statements

PREFIX = {"person": "P", "household": "H", "business": "B"}
WIDTH = 9
# Characters of a natural key that name its numbering bucket (:func:`allocate`): an ID number's
# region and birth year, a USCC's issuer, type and region, a household's kind and head's region and
# birth year or its township; enough buckets in one county to spread the numbering over executors.
BUCKET = {"person": 10, "business": 10, "household": 16}

# hub_codes with redirects followed (one level: a redirect target is never itself redirected).
RESOLVED = "(SELECT entity, natural_key, coalesce(redirect_to, code) AS code FROM hub_codes)"


def allocate(db: Statements, entity: str, keys_sql: str, now: datetime) -> int:
    """Give a code to every natural key of ``keys_sql`` (a query with one column ``natural_key``)
    that has none yet: the keys looked up in ``hub_codes`` (a semi-join on the keys, not a hash table of
    every code), numbered over the new keys only; no new key, no insert.
    Returns how many codes were created.

    No step sees every new key at once: the keys are numbered per bucket (the first
    :data:`BUCKET` characters of the key, so the buckets are in natural-key order too), each bucket
    offset by the count of the buckets before it, a window over the small table of bucket counts.
    The codes are those of one ``row_number() OVER (ORDER BY natural_key)``, on every engine."""
    prefix = PREFIX[entity]
    params = {"entity": entity, "prefix": prefix, "now": now}
    # the keys first, then hub_codes read only where it holds one of them (a semi-join probing the
    # few keys of an upload or a decision, not a hash table of every code): no fresh key, no insert
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE __codes_keys AS SELECT DISTINCT q.natural_key FROM ({keys_sql}) q "
        "WHERE q.natural_key IS NOT NULL"
    )
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE __codes_fresh AS
        SELECT q.natural_key, substr(q.natural_key, 1, {BUCKET[entity]}) AS bucket FROM __codes_keys q
        ANTI JOIN (SELECT natural_key FROM hub_codes WHERE entity = $entity
                   AND natural_key IN (SELECT natural_key FROM __codes_keys)) c ON c.natural_key = q.natural_key""",
        {"entity": entity},
    )
    created = 0
    if db.scalar("SELECT count(*) FROM __codes_fresh"):
        created = db.scalar(
            f"""
            INSERT INTO hub_codes (entity, natural_key, code, created_at)
            WITH buckets AS (
                SELECT bucket,
                       coalesce(sum(n) OVER (ORDER BY bucket ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
                                0) AS before
                FROM (SELECT bucket, count(*) AS n FROM __codes_fresh GROUP BY bucket) counts
            ),
            base AS (
                SELECT coalesce(max(CAST(substr(code, 2) AS BIGINT)), 0) AS n
                FROM hub_codes WHERE entity = $entity
            )
            SELECT $entity, f.natural_key,
                   $prefix || lpad(CAST(base.n + b.before
                                        + row_number() OVER (PARTITION BY f.bucket ORDER BY f.natural_key)
                                        AS VARCHAR), {WIDTH}, '0'),
                   $now
            FROM __codes_fresh f JOIN buckets b ON b.bucket = f.bucket CROSS JOIN base
            """,
            params,
        )
    db.execute("DROP TABLE IF EXISTS __codes_keys")
    db.execute("DROP TABLE IF EXISTS __codes_fresh")
    return int(created or 0)
