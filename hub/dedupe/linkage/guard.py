"""Bounded pairwise work: exact duplicates collapse and an oversized blocking block is not compared
pairwise, so no upload makes entity resolution quadratic (issue 11; docs/linkage.md).

* **Exact duplicates.** Records equal on every linkage feature (name keys, sex, birth date, village,
  phones, ID features) score the same against anyone. Of each such group the first
  ``max_identical`` records (by uid) are compared as usual; the rest are *collapsed*: not compared,
  but each takes the cluster its group's second record gets (they are that record's exact copies: the
  same edges, the same anchors). A 200,000-row file of one repeated row is ``max_identical`` records
  for Splink, not 2·10¹⁰ pairs. Normal data (a person in a few ledgers) has no group that large and is
  linked exactly as before.
* **Oversized blocks.** A blocking rule whose block (records sharing the rule's key) would yield more
  pairs than a block of ``max_block`` records is guarded: the rule gets ``AND NOT l.guard_<i>`` for
  scoring, the block's records are left out of training, and a warning names the rule, the size and
  the submissions. Its records are still linked by exact keys: the same valid ID (the hard rule of
  :mod:`hub.dedupe.linkage.graph`), exact duplicates (above), and every other rule whose block is small.

Everything is set-based: one GROUP BY per rule, one window over the records when a group is collapsed.

What a full run decided is kept (:func:`persist`: ``hub_link_twins``, ``hub_link_guard``), so that an
upload linked against the store (:mod:`hub.dedupe.linkage.incremental`) leaves the collapsed records
out of scoring and clusters them as :func:`twin_clusters` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from hub.store.db import Database

KEPT = "__link_kept"  # the records Splink compares (persistent: Splink reads it through a cursor)
TRAIN = "__link_train"  # the records the model trains on (kept, minus oversized blocks)
TWINS = "__link_twins"  # collapsed record -> the first and second record of its group
STORED_TWINS = "hub_link_twins"  # TWINS of the last full run (persistent)


@dataclass(frozen=True)
class Guarded:
    """What linkage compares: ``table`` (scored), ``train`` (trained on), ``rules`` (blocking rule →
    the rule scored instead, for the rules with an oversized block), ``twins`` (the table of collapsed
    records, or None), and the Chinese warnings."""

    table: str
    train: str
    rules: dict[str, str] = field(default_factory=dict)
    twins: str | None = None
    collapsed: int = 0
    warnings: list[str] = field(default_factory=list)


def rule_keys(rule: str) -> tuple[list[str], list[str]]:
    """The equi-join columns of a blocking rule: (``l.`` columns, ``r.`` columns), paired in order."""
    left, right = _rule_keys(rule)
    return list(left), list(right)


@lru_cache(maxsize=64)
def _rule_keys(rule: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    # parsed once per process (a parse is ~30 ms; an upload asks for every rule several times)
    import sqlglot
    from sqlglot import exp

    left: list[str] = []
    right: list[str] = []
    for eq in sqlglot.parse_one(rule, read="duckdb").find_all(exp.EQ):
        a, b = eq.this, eq.expression
        if isinstance(a, exp.Column) and isinstance(b, exp.Column) and {a.table, b.table} == {"l", "r"}:
            lcol, rcol = (a, b) if a.table == "l" else (b, a)
            left.append(lcol.name)
            right.append(rcol.name)
    return tuple(left), tuple(right)


def _features(db: Database, table: str) -> list[str]:
    return [c for c, _ in db.columns(table) if c != "uid"]


def guard(
    db: Database,
    records: str,
    blocking_rules: list[str],
    *,
    max_identical: int,
    max_block: int,
    labels: dict[str, str] | None = None,
) -> Guarded:
    """Collapse exact duplicates of ``records`` and guard oversized blocks of ``blocking_rules``."""
    feats = ", ".join(_features(db, records))
    big_groups = int(db.scalar(
        f"SELECT count(*) FROM (SELECT 1 FROM {records} GROUP BY {feats} HAVING count(*) > $k)",
        {"k": max_identical}))  # fmt: skip
    table, twins, collapsed = records, None, 0
    if big_groups:
        db.execute(
            f"""CREATE OR REPLACE TEMP TABLE {TWINS} AS
            SELECT uid, first_uid, second_uid FROM (
                SELECT uid, row_number() OVER w AS k, first(uid) OVER w AS first_uid,
                       nth_value(uid, 2) OVER w AS second_uid
                FROM {records}
                WINDOW w AS (PARTITION BY {feats} ORDER BY uid
                             ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING))
            WHERE k > $k""",
            {"k": max_identical},
        )
        db.execute(f"CREATE OR REPLACE TABLE {KEPT} AS SELECT * FROM {records} ANTI JOIN {TWINS} USING (uid)")
        table, twins = KEPT, TWINS
        collapsed = int(db.scalar(f"SELECT count(*) FROM {TWINS}"))
    limit = max_block * (max_block - 1) // 2
    oversized: list[tuple[int, str, list[str]]] = []
    for i, rule in enumerate(blocking_rules):
        left, right = rule_keys(rule)
        if not left:
            continue
        lk = ", ".join(left)
        on = " AND ".join(f"a.{x} = b.{y}" for x, y in zip(left, right, strict=True))
        notnull = " AND ".join(f"{c} IS NOT NULL" for c in left)
        if left == right:
            pairs = "a.n * (a.n - 1) // 2"
            sizes = f"SELECT {lk}, count(*) AS n FROM {table} WHERE {notnull} GROUP BY ALL"
            sql = f"SELECT a.*, {pairs} AS pairs FROM ({sizes}) a WHERE {pairs} > $limit"
        else:
            rk = ", ".join(right)
            rnotnull = " AND ".join(f"{c} IS NOT NULL" for c in right)
            sizes_l = f"SELECT {lk}, count(*) AS n FROM {table} WHERE {notnull} GROUP BY ALL"
            sizes_r = f"SELECT {rk}, count(*) AS n FROM {table} WHERE {rnotnull} GROUP BY ALL"
            sql = (
                f"SELECT a.* EXCLUDE (n), a.n + b.n AS n, a.n * b.n AS pairs FROM ({sizes_l}) a "
                f"JOIN ({sizes_r}) b ON {on} WHERE a.n * b.n > $limit"
            )
        db.execute(f"CREATE OR REPLACE TEMP TABLE __link_big_{i} AS {sql}", {"limit": limit})
        if db.scalar(f"SELECT count(*) FROM __link_big_{i}"):
            oversized.append((i, rule, left))
    if not oversized:
        return Guarded(table, table, twins=twins, collapsed=collapsed)
    if table == records:  # guard columns go on a copy, never on the input table
        db.execute(f"CREATE OR REPLACE TABLE {KEPT} AS SELECT * FROM {records}")
        table = KEPT
    warnings, rules = [], {}
    for i, rule, left in oversized:
        lk = ", ".join(left)
        db.execute(f"ALTER TABLE {KEPT} ADD COLUMN guard_{i} BOOLEAN DEFAULT false")
        db.execute(f"UPDATE {KEPT} SET guard_{i} = true WHERE ({lk}) IN (SELECT ({lk}) FROM __link_big_{i})")
        rules[rule] = f"({rule}) AND NOT l.guard_{i}"
        blocks, size, subs = db.rows(
            f"""SELECT (SELECT count(*) FROM __link_big_{i}), (SELECT max(n) FROM __link_big_{i}),
                       (SELECT string_agg(DISTINCT CAST(submission_id AS VARCHAR), '、')
                        FROM hub_link_source WHERE uid IN (SELECT uid FROM {KEPT} WHERE guard_{i}))"""
        )[0]
        name = (labels or {}).get(rule, rule)
        warnings.append(
            f"人员比对：按“{name}”分组时有 {blocks} 组过大（最大一组 {size} 条记录，上限 {max_block} 条），"
            f"这些组不两两比对，组内记录只按相同的有效身份证号和完全相同的信息归并"
            f"（提交号 {subs or '—'}）。请核查这些报送是否重复填报。"
        )
    db.execute(
        f"CREATE OR REPLACE TABLE {TRAIN} AS SELECT * FROM {KEPT} WHERE NOT ("
        + " OR ".join(f"guard_{i}" for i, _, _ in oversized)
        + ")"
    )
    for i in range(len(blocking_rules)):
        db.execute(f"DROP TABLE IF EXISTS __link_big_{i}")
    return Guarded(table, TRAIN, rules, twins, collapsed, warnings)


def twin_clusters(db: Database, twins: str, clusters: str) -> None:
    """Add the collapsed records to ``clusters(uid, cluster_key)``: each takes the cluster of its
    group's second record, unless that record is on its own (``rec:<its uid>``): then so is it."""
    db.execute(
        f"""INSERT INTO {clusters}
        SELECT t.uid, CASE WHEN c.cluster_key = 'rec:' || t.second_uid THEN 'rec:' || t.uid
                           ELSE c.cluster_key END
        FROM {twins} t JOIN {clusters} c ON c.uid = t.second_uid"""
    )


def persist(db: Database, guarded: Guarded, max_identical: int, max_block: int) -> None:
    """Keep what the full run's :func:`guard` decided: its collapsed records (``hub_link_twins``), its
    settings and the rules it guarded (``hub_link_guard``). One transaction."""
    with db.transaction():
        db.execute(f"DELETE FROM {STORED_TWINS}")
        if guarded.twins:
            db.execute(f"INSERT INTO {STORED_TWINS} SELECT uid, first_uid, second_uid FROM {guarded.twins}")
        db.execute("DELETE FROM hub_link_guard")
        db.execute(
            "INSERT INTO hub_link_guard VALUES (?, ?, ?)", [max_identical, max_block, sorted(guarded.rules)]
        )


def same_guard(db: Database, max_identical: int, max_block: int) -> bool:
    """Whether the last full run guarded with these settings (a store linked before the guard was
    kept has no row, and no collapsed record: the same)."""
    kept = db.rows("SELECT max_identical, max_block FROM hub_link_guard")
    return not kept or (int(kept[0][0]), int(kept[0][1])) == (max_identical, max_block)


def kept_records(records: str) -> str:
    """SQL: the records of ``records`` the last full run scored (its collapsed records left out)."""
    return f"(SELECT * FROM {records} WHERE uid NOT IN (SELECT uid FROM {STORED_TWINS}))"
