"""Stable person codes through merges and splits.

Every cluster has a natural key (its ID number, or ``rec:<uid>`` for a group of records without a
valid ID) and its code in ``hub_codes`` (allocated by :func:`hub.dedupe.codes.allocate`, so the merge
stage finds the same code for the same ID). The codes a cluster may keep: its own key's code and the
codes its records carried after the previous run.

* Merge: a cluster holding several codes keeps the OLDEST (``created_at``, then code); the others
  redirect to it (``hub_codes.redirect_to``; logged in ``hub_link_redirects``).
* Split: a code claimed by several clusters stays with the cluster whose own key it is, else with the
  cluster holding most of its former records (then the smallest key); every other part keeps its own
  key's code (a redirect to the old code is undone) or gets a new one.

Redirects stay one level deep: a surviving code never redirects.
"""

from __future__ import annotations

from datetime import datetime

from hub.dedupe.codes import allocate
from hub.store.db import Database

_KEPT = """
CREATE OR REPLACE TEMP TABLE __sc_kept AS
WITH cand AS (
    SELECT n.cluster_key, c.code, true AS own, 0 AS n
    FROM (SELECT DISTINCT cluster_key FROM {clusters}) n
    JOIN hub_codes c ON c.entity = 'person' AND c.natural_key = n.cluster_key
    UNION ALL
    SELECT n.cluster_key, p.person_code, false, count(*)
    FROM {clusters} n JOIN hub_link_clusters p USING (uid) GROUP BY ALL),
claims AS (SELECT cluster_key, code, bool_or(own) AS own, sum(n) AS n FROM cand GROUP BY ALL)
SELECT cluster_key, code FROM claims
QUALIFY row_number() OVER (PARTITION BY code ORDER BY own DESC, n DESC, cluster_key) = 1
"""

_WINNERS = """
CREATE OR REPLACE TEMP TABLE __sc_win AS
SELECT k.cluster_key, first(k.code ORDER BY c.created_at, k.code) AS winner
FROM __sc_kept k JOIN hub_codes c ON c.entity = 'person' AND c.code = k.code GROUP BY ALL
"""


def assign_codes(db: Database, clusters: str, now: datetime, replace: str | None = None) -> dict[str, int]:
    """Give every cluster of ``clusters`` (``uid, cluster_key``) its surviving code; update redirects
    and ``hub_link_clusters``. Returns counts: ``created``, ``redirected``, ``restored``.

    ``replace`` (SQL giving ``uid``): only those records' rows of ``hub_link_clusters`` are replaced,
    the rest kept; ``clusters`` must then hold whole clusters, old and new, closed over the records
    whose codes they hold (:func:`hub.dedupe.linkage.incremental.link_delta`). ``None``: all of it."""
    db.execute(_KEPT.format(clusters=clusters))
    created = allocate(
        db, "person",
        f"SELECT DISTINCT cluster_key AS natural_key FROM {clusters} "
        "WHERE cluster_key NOT IN (SELECT cluster_key FROM __sc_kept)",
        now,
    )  # fmt: skip
    db.execute(_KEPT.format(clusters=clusters))
    db.execute(_WINNERS)
    change = """SELECT c.code, CASE WHEN k.code = w.winner THEN NULL ELSE w.winner END AS target
                FROM __sc_kept k JOIN __sc_win w USING (cluster_key) JOIN hub_codes c
                  ON c.entity = 'person' AND c.code = k.code
                WHERE c.redirect_to IS DISTINCT FROM (CASE WHEN k.code = w.winner THEN NULL ELSE w.winner END)"""
    db.execute(f"CREATE OR REPLACE TEMP TABLE __sc_change AS {change}")
    redirected = int(db.scalar("SELECT count(*) FROM __sc_change WHERE target IS NOT NULL"))
    restored = int(db.scalar("SELECT count(*) FROM __sc_change WHERE target IS NULL"))
    db.execute(
        "INSERT INTO hub_link_redirects SELECT code, target, ?, CASE WHEN target IS NULL "
        "THEN '拆分：该编码回到其本人记录' ELSE '合并：并入更早的编码' END FROM __sc_change",
        [now],
    )
    db.execute("UPDATE hub_codes h SET redirect_to = c.target FROM __sc_change c WHERE h.code = c.code")
    # keep redirects one level deep (a code that redirected to a code that now redirects). Redirects
    # were one level deep before and winners never redirect, so only codes that redirect from this run
    # on can be in the middle of a chain: the codes pointing at them, not the whole table, are read.
    db.execute(
        "UPDATE hub_codes h SET redirect_to = t.redirect_to FROM hub_codes t "
        "WHERE h.redirect_to = t.code AND t.redirect_to IS NOT NULL "
        "AND t.code IN (SELECT code FROM __sc_change WHERE target IS NOT NULL)"
    )
    if replace is None:
        db.execute("DELETE FROM hub_link_clusters")
    else:
        db.execute(f"DELETE FROM hub_link_clusters WHERE uid IN ({replace})")
    db.execute(
        f"""INSERT INTO hub_link_clusters
        SELECT c.uid, s.submission_id, s.sheet, s.row_no, c.cluster_key, w.winner
        FROM {clusters} c JOIN __sc_win w USING (cluster_key)
        LEFT JOIN hub_link_source s USING (uid)"""
    )
    for t in ("__sc_kept", "__sc_win", "__sc_change"):
        db.execute(f"DROP TABLE IF EXISTS {t}")
    return {"created": created, "redirected": redirected, "restored": restored}
