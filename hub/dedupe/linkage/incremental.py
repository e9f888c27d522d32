"""Linkage without scoring the store again: an upload linked against it, a review decision applied.

* :func:`link_delta` (an upload, a withdrawal, anything that changed rows): only the submissions whose
  inputs changed since the last run are looked at; their new and changed records are scored against
  the records they can meet, misuse decided for the numbers they touch, and the clusters they reach
  coded again. Exact against the full run (docs/linkage.md, "What is incremental").
* :func:`apply_decisions` (a steward's decision changes no record and no score, only which pairs are
  merge edges): fills, then the clusters of the decided pairs.

Both need the last run to have been *plain* (``LinkSummary.plain``: the saved model; its collapsed
twins and guarded blocks kept by :func:`hub.dedupe.linkage.guard.persist`) and return None / False when
they cannot be exact; the caller then runs the full linkage. Collapsed records are never scored and
take their group's cluster (:func:`_recluster`); a new or gone record in a group of copies or an
oversized block changes what the guard decides, and the full run is taken.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from hub.dedupe.linkage.chinese import PERSON_SPEC, prepare
from hub.dedupe.linkage.config import LinkageConfig
from hub.dedupe.linkage.engine import load_model
from hub.dedupe.linkage.fill import FillResult, resolve_rejected
from hub.dedupe.linkage.graph import MERGE_EDGES, cluster_records
from hub.dedupe.linkage.guard import STORED_TWINS, kept_records, rule_keys, same_guard, twin_clusters
from hub.dedupe.linkage.misuse import flag_id_misuse, misuse_scope
from hub.dedupe.linkage.pipeline import MAX_PASSES, LinkSummary, scorer, store_pairs
from hub.dedupe.linkage.records import INPUT, build_source
from hub.dedupe.linkage.stable import assign_codes
from hub.store.db import Database

if TYPE_CHECKING:
    from hub.store.engine import QueryEngine

# Every input of a linkage run, hashed row by row and folded order-independently per submission. The
# findings that linkage itself rewrites on every run (candidates) are not inputs.
_SUBFP = """
SELECT submission_id, hash(r.h, r.n, f.h, f.n, s.sha256) AS fp
FROM (SELECT submission_id, bit_xor(hash(sheet, row_no, accepted, kind, id_number, name, sex, birth_date,
                                         birth_precision, village_code, phone)) AS h, count(*) AS n
      FROM hub_rows GROUP BY submission_id) r
FULL JOIN (SELECT submission_id, bit_xor(hash(sheet, row_no, field, code, severity, value)) AS h, count(*) AS n
           FROM hub_findings WHERE code NOT IN ('id-match-candidates') GROUP BY submission_id) f USING (submission_id)
FULL JOIN (SELECT submission_id, sha256 FROM hub_submissions) s USING (submission_id)
"""

_FOLD = "SELECT hash(coalesce(bit_xor(hash(submission_id, fp)), 0), count(*)) FROM ({subfp}) q"


def inputs_fp(db: Database) -> int:
    """The linkage inputs as they are now, one hash (see :data:`_SUBFP`)."""
    return int(db.scalar(_FOLD.format(subfp=_SUBFP)))


def record_state(db: Database, plain: bool, now: datetime | None = None) -> None:
    """After a complete linkage run: what it saw (per submission, and folded), and whether a decision
    or an upload may be applied without scoring the store again."""
    with db.transaction():
        db.execute("DELETE FROM hub_link_subfp")
        db.execute(f"INSERT INTO hub_link_subfp {_SUBFP}")
        db.execute("DELETE FROM hub_link_state")
        db.execute(
            "INSERT INTO hub_link_state VALUES (?, ?, ?)",
            [
                int(db.scalar(_FOLD.format(subfp="SELECT * FROM hub_link_subfp"))),
                plain,
                now or datetime.now(),
            ],
        )


def apply_decisions(db: Database, cfg: LinkageConfig, now: datetime | None = None) -> bool:
    """Apply the stored decisions to the last run's pairs: fills, clusters, codes. Returns False when
    the full linkage must run instead (see module doc); True when the store is as a full run leaves it."""
    now = now or datetime.now()
    state = db.rows("SELECT fp, plain FROM hub_link_state")
    if not state or not state[0][1] or int(state[0][0]) != inputs_fp(db) or not db.table_exists(INPUT):
        return False
    if not same_guard(db, cfg.max_identical, cfg.max_block):
        return False
    if not cfg.model_path.exists():
        return False
    db.execute(f"CREATE OR REPLACE TEMP TABLE {TOUCH} (uid VARCHAR)")
    db.execute(f"CREATE OR REPLACE TEMP TABLE {OLD} (uid VARCHAR)")
    _touch_decided(db)
    # only the decided pairs' records (and their collapsed copies) can gain or lose a fill or a candidate
    fill = resolve_rejected(db, None, cfg, now, twins=STORED_TWINS, scope=_FILL_SCOPE)
    if fill.filled:
        return False  # a record changed: linked again from here (link_delta, or the full run)
    _recluster(db, now)
    for t in (TOUCH, OLD, SCOPE, "__link_clusters"):
        db.execute(f"DROP TABLE IF EXISTS {t}")
    # no row or finding the fingerprint covers changed (candidates are not covered): the recorded
    # inputs stand, and the run is now as of this decision
    db.execute("UPDATE hub_link_state SET plain = true, linked_at = ?", [now])
    return True


def _touch_decided(db: Database) -> None:
    """The two records of every pair a steward decided since the last run go to :data:`TOUCH`: a
    decision makes or unmakes a merge edge."""
    db.execute(
        f"INSERT INTO {TOUCH} SELECT uid_l FROM hub_link_decisions d, hub_link_state s WHERE d.decided_at >= s.linked_at "
        "UNION SELECT uid_r FROM hub_link_decisions d, hub_link_state s WHERE d.decided_at >= s.linked_at"
    )


# --- an upload linked against the store (issue 12: score only what is new) -----------------------

CHANGED = "__inc_changed"  # submissions whose linkage inputs changed since they were last linked
NEW = "__inc_new"  # source rows new or changed since the last run
OLD = "__inc_old"  # the last run's source rows that are gone or changed (their uids)
PREP = "__inc_prep"  # NEW as linkage records
SUB = "__link_sub"  # the records a new record can meet in a block (persistent: Splink reads it)
TOUCH = "__inc_touch"  # uids whose cluster may change
SCOPE = "__inc_scope"  # whole clusters, old and new, around TOUCH

#: A scope larger than this re-clusters the whole store (cheaper than growing the closure further).
MAX_SCOPE = 200_000

#: The records a fill or candidate may change for (resolve_rejected's ``scope``): those of :data:`TOUCH`
#: and the collapsed copies that take the links of a record of it (their group's first record).
_FILL_SCOPE = f"SELECT uid FROM {TOUCH} UNION SELECT uid FROM {STORED_TWINS} WHERE first_uid IN (SELECT uid FROM {TOUCH})"


def _plain_state(db: Database, cfg: LinkageConfig) -> bool:
    state = db.rows("SELECT plain FROM hub_link_state")
    tables = all(db.table_exists(t) for t in (INPUT, "hub_link_source"))
    seen = bool(db.rows("SELECT 1 FROM hub_link_subfp LIMIT 1")) or not db.rows(
        "SELECT 1 FROM hub_rows LIMIT 1"
    )
    guard = same_guard(db, cfg.max_identical, cfg.max_block)
    return bool(state and state[0][0] and tables and seen and guard and cfg.model_path.exists())


def _changed_submissions(db: Database) -> int:
    """:data:`CHANGED`: the submissions whose linkage inputs differ from what was linked (new, gone or
    changed: rows, findings, file). Returns how many."""
    db.execute(f"CREATE OR REPLACE TEMP TABLE __inc_cur AS {_SUBFP}")
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE {CHANGED} AS SELECT submission_id FROM __inc_cur c "
        "FULL JOIN __inc_seen s USING (submission_id) WHERE c.fp IS DISTINCT FROM s.fp"
    )
    return int(db.scalar(f"SELECT count(*) FROM {CHANGED}"))


def _flag_misuse(db: Database, now: datetime) -> bool:
    """``id-misused`` decided again for the numbers the changed submissions carry or carried. Returns
    whether a row's flag changed (then rows of other submissions may have changed too)."""
    subs = f"SELECT submission_id FROM {CHANGED}"
    db.execute(
        f"""CREATE OR REPLACE TEMP TABLE __inc_ids AS
        SELECT id_number FROM hub_rows WHERE submission_id IN ({subs}) AND id_number IS NOT NULL
        UNION SELECT id_valid FROM hub_link_source WHERE submission_id IN ({subs}) AND id_valid IS NOT NULL
        UNION SELECT id_number FROM hub_link_misuse WHERE submission_id IN ({subs})"""
    )
    flags = (
        "SELECT submission_id, sheet, row_no, id_number, reason FROM hub_link_misuse WHERE id_number IN ({})"
    )
    try:
        scope = misuse_scope(db, "SELECT id_number FROM __inc_ids")
        db.execute(f"CREATE OR REPLACE TEMP TABLE __inc_flags AS {flags.format(scope)}")
        flag_id_misuse(db, now, scope)
        now_flags = flags.format(scope)
        return bool(db.scalar(
            f"SELECT count(*) FROM ((SELECT * FROM __inc_flags EXCEPT SELECT * FROM ({now_flags})) "
            f"UNION ALL (SELECT * FROM ({now_flags}) EXCEPT SELECT * FROM __inc_flags))"))  # fmt: skip
    finally:
        db.execute("DROP TABLE IF EXISTS __inc_ids")
        db.execute("DROP TABLE IF EXISTS __inc_flags")


def _source_delta(db: Database) -> tuple[int, int]:
    """The source rows of the changed submissions as they are now against those the last run linked:
    :data:`NEW` (new or changed rows) and :data:`OLD` (uids of rows gone or changed). Returns counts."""
    subs = f"SELECT submission_id FROM {CHANGED}"
    build_source(db, "__inc_source", subs)
    was = f"(SELECT * FROM hub_link_source WHERE submission_id IN ({subs}))"
    db.execute(f"CREATE OR REPLACE TEMP TABLE {NEW} AS SELECT * FROM __inc_source EXCEPT SELECT * FROM {was}")
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE {OLD} AS SELECT uid FROM (SELECT * FROM {was} EXCEPT SELECT * FROM __inc_source)"
    )
    db.execute("DROP TABLE IF EXISTS __inc_source")
    return int(db.scalar(f"SELECT count(*) FROM {NEW}")), int(db.scalar(f"SELECT count(*) FROM {OLD}"))


def _blocks_bounded(db: Database, cfg: LinkageConfig, records: str = PREP) -> bool:
    """True when no record of ``records`` (:data:`PREP`, after they went in; or the gone records,
    before they leave) sits in a group of exact duplicates or a block that the guard
    (:mod:`hub.dedupe.linkage.guard`) collapses or leaves unscored: then the guard decides for every
    other record as the last run did (the same collapsed records, the same guarded blocks), the new
    records link as themselves, and scoring them alone is exact. Blocks are counted over the records
    the full run scores (collapsed ones left out, as the guard counts them)."""
    # grouped, never joined record to record: a file of 200,000 identical rows is one group here,
    # where a join would pair every row with every other (4·10¹⁰ pairs)
    # First on three of the features (reading every feature of the million records costs ~10×): a
    # group of exact duplicates lies inside a group equal on these, so none here means none at all.
    twins = "SELECT count(*) FROM (SELECT 1 FROM {input} WHERE name IN (SELECT name FROM {records}) GROUP BY {feats} "
    twins += "HAVING count(*) > $k AND bool_or(uid IN (SELECT uid FROM {records})))"
    for feats in ("name, sex, birth_date", ", ".join(c for c, _ in db.columns(INPUT) if c != "uid")):
        if not db.scalar(twins.format(input=INPUT, records=records, feats=feats), {"k": cfg.max_identical}):
            break
    else:
        return False
    limit = cfg.max_block * (cfg.max_block - 1) // 2
    kept = kept_records(INPUT)
    for rule in PERSON_SPEC.blocking_rules:
        left, right = rule_keys(rule)
        if not left:
            continue
        # the block sizes of the keys a new record has on either side of the rule
        wanted = f"SELECT ({', '.join(left)}) FROM {records} UNION SELECT ({', '.join(right)}) FROM {records}"

        def sizes(cols: list[str], wanted: str = wanted) -> str:
            keys, notnull = ", ".join(cols), " AND ".join(f"{c} IS NOT NULL" for c in cols)
            return (
                f"(SELECT {keys}, count(*) AS n FROM {kept} k WHERE {notnull} AND ({keys}) IN ({wanted}) "
                "GROUP BY ALL)"
            )

        if left == right:
            big = f"SELECT count(*) FROM {sizes(left)} a WHERE a.n * (a.n - 1) // 2 > $limit"
        else:
            on_keys = " AND ".join(f"a.{x} = b.{y}" for x, y in zip(left, right, strict=True))
            big = f"SELECT count(*) FROM {sizes(left)} a JOIN {sizes(right)} b ON {on_keys} WHERE a.n * b.n > $limit"
        if db.scalar(big, {"limit": limit}):
            return False
    return True


def _gone_bounded(db: Database, cfg: LinkageConfig) -> bool:
    """:func:`_blocks_bounded` for the records of :data:`OLD` as the last run linked them (before they
    leave :data:`INPUT`): a record leaving a group of copies or an oversized block changes the guard."""
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE __inc_was AS SELECT * FROM {INPUT} WHERE uid IN (SELECT uid FROM {OLD})"
    )
    try:
        return _blocks_bounded(db, cfg, "__inc_was")
    finally:
        db.execute("DROP TABLE IF EXISTS __inc_was")


def _score_new(
    db: Database, cfg: LinkageConfig, model: dict[str, Any], now: datetime, engine: QueryEngine | None
) -> None:
    """Pairs of the new records (with the store and among themselves) replace the pairs of the records
    they replace; the endpoints of every pair dropped or added go to :data:`TOUCH`."""
    reach = []
    for rule in PERSON_SPEC.blocking_rules:
        left, right = rule_keys(rule)
        if not left:
            continue
        for mine, theirs in sorted({(tuple(left), tuple(right)), (tuple(right), tuple(left))}):
            # one scan of the store, one hash probe per rule and side; a NULL key meets nothing
            notnull = " AND ".join(f"i.{t} IS NOT NULL" for t in theirs)
            mine_t = ", ".join(f"p.{m}" for m in mine)
            theirs_t = ", ".join(f"i.{t}" for t in theirs)
            reach.append(f"({notnull} AND ({theirs_t}) IN (SELECT ({mine_t}) FROM {PREP} p))")
    db.execute(
        f"CREATE OR REPLACE TABLE {SUB} AS SELECT * FROM {kept_records(INPUT)} i "
        f"WHERE i.uid IN (SELECT uid FROM {PREP}) OR " + " OR ".join(reach)
    )
    db.execute(
        f"INSERT INTO {TOUCH} SELECT uid_l FROM hub_link_pairs WHERE uid_l IN (SELECT uid FROM {OLD}) "
        f"OR uid_r IN (SELECT uid FROM {OLD}) UNION SELECT uid_r FROM hub_link_pairs "
        f"WHERE uid_l IN (SELECT uid FROM {OLD}) OR uid_r IN (SELECT uid FROM {OLD})"
    )
    db.execute(
        f"DELETE FROM hub_link_pairs WHERE uid_l IN (SELECT uid FROM {OLD}) OR uid_r IN (SELECT uid FROM {OLD})"
    )
    if int(db.scalar(f"SELECT count(*) FROM {SUB}")) < 2:
        return
    scorer(db, engine).predict_pairs(db, SUB, dict(model), "__link_scored", cfg.lower)
    db.execute(
        f"DELETE FROM __link_scored WHERE uid_l NOT IN (SELECT uid FROM {PREP}) "
        f"AND uid_r NOT IN (SELECT uid FROM {PREP})"
    )
    store_pairs(db, cfg, now, model=model, records=SUB)  # the levels from the scored records only
    db.execute(f"INSERT INTO {TOUCH} SELECT uid_l FROM __link_scored UNION SELECT uid_r FROM __link_scored")
    db.execute("DROP TABLE IF EXISTS __link_scored")


FRONT = "__inc_front"  # the records of SCOPE whose keys and edges are not yet followed
KEYS = "__inc_keys"  # the cluster keys and IDs already followed

# One step of the closure, semi-naive: only the frontier's keys not followed before are looked up
# (each lookup scans a million-row column), and only the frontier's edges.
_NEW_KEYS = f"""
CREATE OR REPLACE TEMP TABLE __inc_newkeys AS
SELECT cluster_key AS k FROM hub_link_clusters WHERE uid IN (SELECT uid FROM {FRONT})
UNION SELECT id_valid FROM {INPUT} WHERE uid IN (SELECT uid FROM {FRONT}) AND id_valid IS NOT NULL
EXCEPT SELECT k FROM {KEYS}
"""
_NEXT = f"""
CREATE OR REPLACE TEMP TABLE __inc_next AS
WITH edges AS (SELECT a, b FROM ({MERGE_EDGES}) e)
SELECT b AS uid FROM edges WHERE a IN (SELECT uid FROM {FRONT})
UNION SELECT a FROM edges WHERE b IN (SELECT uid FROM {FRONT})
{{by_keys}}
EXCEPT SELECT uid FROM {SCOPE}
EXCEPT SELECT uid FROM {STORED_TWINS}
"""
_BY_KEYS = f"""UNION SELECT uid FROM hub_link_clusters WHERE cluster_key IN (SELECT k FROM __inc_newkeys)
UNION SELECT uid FROM {INPUT} WHERE id_valid IN (SELECT k FROM __inc_newkeys)"""


def _close_scope(db: Database) -> bool:
    """Grow :data:`SCOPE` to its closure; False when it grows past :data:`MAX_SCOPE`."""
    db.execute(f"CREATE OR REPLACE TEMP TABLE {FRONT} AS SELECT uid FROM {SCOPE}")
    db.execute(f"CREATE OR REPLACE TEMP TABLE {KEYS} (k VARCHAR)")
    try:
        while int(db.scalar(f"SELECT count(*) FROM {SCOPE}")) <= MAX_SCOPE:
            db.execute(_NEW_KEYS)
            fresh = int(db.scalar("SELECT count(*) FROM __inc_newkeys"))
            db.execute(f"INSERT INTO {KEYS} SELECT k FROM __inc_newkeys")
            db.execute(_NEXT.format(by_keys=_BY_KEYS if fresh else ""))
            if not int(db.scalar("SELECT count(*) FROM __inc_next")):
                return True
            db.execute(f"INSERT INTO {SCOPE} SELECT uid FROM __inc_next")
            db.execute(f"CREATE OR REPLACE TEMP TABLE {FRONT} AS SELECT uid FROM __inc_next")
        return False
    finally:
        for t in (FRONT, KEYS, "__inc_newkeys", "__inc_next"):
            db.execute(f"DROP TABLE IF EXISTS {t}")


def _recluster(db: Database, now: datetime) -> dict[str, int]:
    """Cluster again, and code, the records of :data:`TOUCH` with everything their clusters can reach:
    old clusters, records of the same ID, merge edges, to the closure; the whole store when the
    closure grows past :data:`MAX_SCOPE`. Returns the code counts."""
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE {SCOPE} AS SELECT DISTINCT uid FROM {TOUCH} "
        f"WHERE uid NOT IN (SELECT uid FROM {STORED_TWINS})"
    )
    if not _close_scope(db):
        cluster_records(db, kept_records(INPUT))
        twin_clusters(db, STORED_TWINS, "__link_clusters")
        with db.transaction():
            return assign_codes(db, "__link_clusters", now)
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE __inc_records AS SELECT uid, id_valid FROM {INPUT} "
        f"WHERE uid IN (SELECT uid FROM {SCOPE})"
    )
    cluster_records(db, "__inc_records")
    # the collapsed copies of the records clustered again follow their group's second record
    twin_clusters(db, STORED_TWINS, "__link_clusters")
    with db.transaction():
        codes = assign_codes(
            db, "__link_clusters", now, replace=f"SELECT uid FROM __link_clusters UNION SELECT uid FROM {OLD}"
        )
    db.execute("DROP TABLE IF EXISTS __inc_records")
    return codes


def link_delta(
    db: Database, cfg: LinkageConfig, now: datetime | None = None, engine: QueryEngine | None = None
) -> LinkSummary | None:
    """Link what changed since the last run against the store, without scoring the store again
    (the new pairs scored by ``engine``, the store's own Splink by default).

    Exact (the tables end as :func:`hub.dedupe.linkage.pipeline.run_linkage` leaves them, creation
    times aside) when the last run was plain (saved model; its collapsed twins and guarded blocks
    kept) and no new or gone record is in a group of copies or an oversized block (it would change
    what the guard decides: then the full run is taken). Returns None, having changed nothing a full run does not redo, when it
    cannot be exact: the caller then runs the full linkage."""
    now = now or datetime.now()
    if not _plain_state(db, cfg):
        return None
    model = load_model(cfg.model_path, PERSON_SPEC)
    if model is None:
        return None
    # until this run ends, the linkage tables are not what a full run leaves: a run killed half-way
    # is followed by a full one (record_state marks the store plain again at the end)
    db.execute("UPDATE hub_link_state SET plain = false")
    db.execute(f"CREATE OR REPLACE TEMP TABLE {TOUCH} (uid VARCHAR)")
    _touch_decided(db)  # first: a decision may fill a row (resolve_rejected looks at TOUCH alone)
    db.execute("CREATE OR REPLACE TEMP TABLE __inc_gone (uid VARCHAR)")
    db.execute("CREATE OR REPLACE TEMP TABLE __inc_seen AS SELECT * FROM hub_link_subfp")
    filled = 0
    fill = FillResult(0, 0, 0)
    for _ in range(MAX_PASSES):
        if not _changed_submissions(db):
            break  # nothing changed since the last pass (a fill's next pass, or nothing at all)
        if _flag_misuse(db, now):
            _changed_submissions(db)  # a row flagged or restored in another submission
        db.execute("CREATE OR REPLACE TEMP TABLE __inc_seen AS SELECT * FROM __inc_cur")
        new, old = _source_delta(db)
        if new or old:
            with db.transaction():
                db.execute(f"INSERT INTO __inc_gone SELECT uid FROM {OLD}")
                db.execute(f"DELETE FROM hub_link_source WHERE uid IN (SELECT uid FROM {OLD})")
                db.execute(f"INSERT INTO hub_link_source SELECT * FROM {NEW}")
            prepare(db, f"SELECT * FROM {NEW}", PREP)
            if old and not _gone_bounded(db, cfg):
                return None
            db.execute(f"DELETE FROM {INPUT} WHERE uid IN (SELECT uid FROM {OLD})")
            db.execute(f"INSERT INTO {INPUT} SELECT * FROM {PREP}")
            if not _blocks_bounded(db, cfg):
                return None
            _score_new(db, cfg, model, now, engine)
            db.execute(f"INSERT INTO {TOUCH} SELECT uid FROM {PREP} UNION SELECT uid FROM {OLD}")
        # the records whose row, pairs or decisions changed: every other keeps its fill or candidates
        fill = resolve_rejected(db, None, cfg, now, twins=STORED_TWINS, scope=_FILL_SCOPE)
        filled += fill.filled
        if not fill.filled:
            break
    db.execute(f"CREATE OR REPLACE TEMP TABLE {OLD} AS SELECT DISTINCT uid FROM __inc_gone")
    codes = _recluster(db, now)
    misused = int(db.scalar("SELECT count(*) FROM hub_link_misuse"))
    for t in (
        NEW,
        OLD,
        PREP,
        SUB,
        TOUCH,
        SCOPE,
        CHANGED,
        "__inc_gone",
        "__inc_seen",
        "__inc_cur",
        "__link_clusters",
    ):
        db.execute(f"DROP TABLE IF EXISTS {t}")
    records = int(db.scalar(f"SELECT count(*) FROM {INPUT}"))
    pairs = int(db.scalar("SELECT count(*) FROM hub_link_pairs"))
    review = int(db.scalar(
        "SELECT count(*) FROM hub_link_pairs p WHERE status = 'review' "
        "AND pair_id NOT IN (SELECT pair_id FROM hub_link_decisions)"))  # fmt: skip
    fill = FillResult(filled, fill.with_candidates, fill.without_candidates)
    return LinkSummary(records, pairs, review, misused, fill, None, codes, False, [], True, incremental=True)
