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

from hub.store.db import Database

PREFIX = {"person": "P", "household": "H", "business": "B"}
WIDTH = 9

# hub_codes with redirects followed (one level: a redirect target is never itself redirected).
RESOLVED = "(SELECT entity, natural_key, coalesce(redirect_to, code) AS code FROM hub_codes)"


def allocate(db: Database, entity: str, keys_sql: str, now: datetime) -> int:
    """Give a code to every natural key of ``keys_sql`` (a query with one column ``natural_key``)
    that has none yet: one anti-join against ``hub_codes``, numbered over the new keys only.
    Returns how many codes were created."""
    prefix = PREFIX[entity]
    created = db.scalar(
        f"""
        INSERT INTO hub_codes (entity, natural_key, code, created_at)
        WITH fresh AS (
            SELECT DISTINCT q.natural_key FROM ({keys_sql}) q
            ANTI JOIN (SELECT natural_key FROM hub_codes WHERE entity = $entity) c
                ON c.natural_key = q.natural_key
            WHERE q.natural_key IS NOT NULL
        ),
        base AS (
            SELECT coalesce(max(CAST(substr(code, 2) AS BIGINT)), 0) AS n
            FROM hub_codes WHERE entity = $entity
        )
        SELECT $entity, natural_key,
               $prefix || lpad(CAST(base.n + row_number() OVER (ORDER BY natural_key) AS VARCHAR),
                               {WIDTH}, '0'),
               $now
        FROM fresh, base
        """,
        {"entity": entity, "prefix": prefix, "now": now},
    )
    return int(created or 0)
