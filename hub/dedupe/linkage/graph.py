"""Connected components in SQL, and the clustering of linkage records under the hard rules.

Hard rules (never broken by a score): records with the same valid ID are one person (a 15-digit
number is compared in its 18-digit form); two different valid IDs are never one person. So a record
with a valid ID belongs to that ID's cluster; records without one ("floating": rejected rows, rows
whose ID was misused) are grouped by the merge edges among themselves and a group joins an ID's
cluster only when its edges reach exactly ONE ID (a steward's accepted pair wins over automatic
ones). A group reaching several IDs stays on its own and its pairs go to review. Merge edges: pairs
at or above the upper threshold not rejected by a steward, and pairs a steward accepted.
"""

from __future__ import annotations

from hub.store.db import Database

#: Safety bound on label-propagation rounds (each round at least halves no path; real graphs converge
#: in a handful because ranks jump along the current labels).
MAX_ROUNDS = 10_000


def connected_components(db: Database, nodes_sql: str, edges_sql: str, out: str) -> int:
    """Write ``out(node, root)``: every node of ``nodes_sql`` (column ``node``) with the smallest node
    of its component under ``edges_sql`` (columns ``a, b``, undirected). Returns the number of rounds.
    Min-label propagation with pointer jumping, set-based (one SQL pass per round)."""
    db.execute(f"CREATE OR REPLACE TEMP TABLE __cc_e AS SELECT a, b FROM ({edges_sql}) q WHERE a <> b "
               f"UNION SELECT b, a FROM ({edges_sql}) q WHERE a <> b")  # fmt: skip
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT node, least(node, coalesce(min(e.b), node)) AS root "
        f"FROM (SELECT DISTINCT node FROM ({nodes_sql}) q) n LEFT JOIN __cc_e e ON e.a = n.node GROUP BY node"
    )
    rounds = 0
    while rounds < MAX_ROUNDS:
        rounds += 1
        # neighbours' labels, then jump to the label's label
        db.execute(
            f"""CREATE OR REPLACE TEMP TABLE __cc_n AS
            WITH hop AS (
                SELECT l.node, least(l.root, coalesce(min(r.root), l.root)) AS root
                FROM {out} l LEFT JOIN __cc_e e ON e.a = l.node LEFT JOIN {out} r ON r.node = e.b
                GROUP BY l.node, l.root)
            SELECT h.node, least(h.root, coalesce(j.root, h.root)) AS root
            FROM hop h LEFT JOIN hop j ON j.node = h.root"""
        )
        changed = db.scalar(f"SELECT count(*) FROM __cc_n n JOIN {out} o USING (node) WHERE n.root <> o.root")
        db.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT * FROM __cc_n")
        if not changed:
            break
    db.execute("DROP TABLE IF EXISTS __cc_n")
    db.execute("DROP TABLE IF EXISTS __cc_e")
    return rounds


MERGE_EDGES = """
SELECT p.uid_l AS a, p.uid_r AS b, coalesce(d.decision = 'accept', false) AS decided, p.match_probability
FROM hub_link_pairs p LEFT JOIN hub_link_decisions d USING (pair_id)
WHERE (p.status = 'auto' AND coalesce(d.decision, '') <> 'reject') OR d.decision = 'accept'
"""


def cluster_records(
    db: Database, records: str, edges_sql: str = MERGE_EDGES, out: str = "__link_clusters"
) -> int:
    """Write ``out(uid, cluster_key)`` for every record of ``records`` (``uid, id_valid``): the anchor
    ID, or ``'rec:' || smallest uid`` of a floating group. Edges: ``a, b, decided`` (see module doc).
    Returns the number of clusters."""
    db.execute(f"CREATE OR REPLACE TEMP TABLE __cl_rec AS SELECT uid, id_valid FROM {records}")
    db.execute(f"CREATE OR REPLACE TEMP TABLE __cl_edges AS SELECT a, b, decided FROM ({edges_sql}) q")
    floating = "SELECT uid AS node FROM __cl_rec WHERE id_valid IS NULL"
    connected_components(
        db, floating,
        "SELECT e.a, e.b FROM __cl_edges e JOIN __cl_rec x ON x.uid = e.a JOIN __cl_rec y ON y.uid = e.b "
        "WHERE x.id_valid IS NULL AND y.id_valid IS NULL",
        "__cl_groups",
    )  # fmt: skip
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE {out} AS
        WITH ends AS (    -- each edge from both ends: equi-joins only (an IN-list join is a nested loop)
            SELECT a AS f, b AS x, decided FROM __cl_edges UNION ALL SELECT b, a, decided FROM __cl_edges),
        reach AS (   -- floating group -> anchor IDs its merge edges reach
            SELECT g.root, x.id_valid, bool_or(e.decided) AS decided
            FROM ends e
            JOIN __cl_rec f ON f.uid = e.f AND f.id_valid IS NULL
            JOIN __cl_rec x ON x.uid = e.x AND x.id_valid IS NOT NULL
            JOIN __cl_groups g ON g.node = f.uid
            GROUP BY ALL),
        pick AS (
            SELECT root, CASE WHEN count(DISTINCT id_valid) FILTER (WHERE decided) = 1
                                   THEN min(id_valid) FILTER (WHERE decided)
                              WHEN count(DISTINCT id_valid) FILTER (WHERE decided) = 0
                                   AND count(DISTINCT id_valid) = 1 THEN min(id_valid) END AS anchor
            FROM reach GROUP BY root)
        SELECT r.uid, coalesce(r.id_valid, p.anchor, 'rec:' || g.root) AS cluster_key
        FROM __cl_rec r LEFT JOIN __cl_groups g ON g.node = r.uid LEFT JOIN pick p ON p.root = g.root"""
    )
    for t in ("__cl_rec", "__cl_edges", "__cl_groups"):
        db.execute(f"DROP TABLE IF EXISTS {t}")
    return int(db.scalar(f"SELECT count(DISTINCT cluster_key) FROM {out}"))


def ambiguous_groups(db: Database, clusters: str = "__link_clusters") -> str:
    """SQL: floating records left on their own although merge edges reach two or more IDs."""
    return f"""SELECT c.uid FROM {clusters} c WHERE c.cluster_key LIKE 'rec:%' AND EXISTS (
        SELECT 1 FROM hub_link_pairs p JOIN hub_link_input x ON x.uid IN (p.uid_l, p.uid_r)
        WHERE c.uid IN (p.uid_l, p.uid_r) AND p.status = 'auto' AND x.id_valid IS NOT NULL)"""
