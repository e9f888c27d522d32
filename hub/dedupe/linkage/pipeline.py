"""The linkage run: flag misused IDs, build records, score pairs, fill rejected rows, cluster, codes.

Hook (after every ingest, before ``hub.dedupe.merge``): ``run_linkage(db)``. It keeps rows whose ID
was misused out of the merge (``accepted = false``), accepts rejected rows it could fill, and gives
every record its stable person code (``hub_link_clusters``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub.dedupe.linkage.chinese import PERSON_SPEC
from hub.dedupe.linkage.config import LinkageConfig
from hub.dedupe.linkage.engine import level_weights, load_model, predict, train
from hub.dedupe.linkage.fill import FillResult, resolve_rejected
from hub.dedupe.linkage.graph import cluster_records
from hub.dedupe.linkage.misuse import flag_id_misuse
from hub.dedupe.linkage.records import INPUT, build_input
from hub.dedupe.linkage.stable import assign_codes
from hub.store.db import Database

_PAIRS = """
INSERT INTO hub_link_pairs
SELECT left(md5(p.uid_l || '|' || p.uid_r), 12), p.uid_l, p.uid_r, p.match_probability, p.match_weight,
       {gammas},
       CASE WHEN l.id_valid <> r.id_valid THEN 'blocked' WHEN p.match_probability >= $upper THEN 'auto' ELSE 'review' END,
       CASE WHEN l.id_valid <> r.id_valid THEN '两个不同的有效身份证号码不是同一人'
            WHEN p.match_probability >= $upper THEN '匹配概率不低于上限阈值，自动合并'
            ELSE '匹配概率介于上下限阈值之间，需人工确认' END,
       $now
FROM __link_scored p JOIN {input} l ON l.uid = p.uid_l JOIN {input} r ON r.uid = p.uid_r
WHERE l.id_valid IS DISTINCT FROM r.id_valid OR l.id_valid IS NULL
"""


MAX_PASSES = 4


@dataclass(frozen=True)
class LinkSummary:
    records: int
    pairs: int  # scored pairs kept (>= lower threshold, not the same valid ID)
    review: int  # pairs waiting for a steward
    misused: int  # rows flagged id-misused
    fill: FillResult
    clusters: int
    codes: dict[str, int]
    trained: bool


def link_records(
    db: Database, cfg: LinkageConfig, now: datetime, input_table: str = INPUT
) -> tuple[int, bool]:
    """Score the pairs of ``input_table`` into ``hub_link_pairs`` (training the model when needed).
    Returns (pairs kept, trained)."""
    n = int(db.scalar(f"SELECT count(*) FROM {input_table}"))
    model = None if cfg.retrain else load_model(cfg.model_path, PERSON_SPEC)
    trained = False
    if model is None and n >= cfg.min_records_to_train:
        model, trained = train(db, [input_table], PERSON_SPEC, cfg.model_path), True
    db.execute("DELETE FROM hub_link_pairs")
    if model is None:
        return 0, False
    db.execute("DELETE FROM hub_link_levels")
    for comp, levels in level_weights(model).items():
        for gamma, (label, weight) in levels.items():
            db.execute("INSERT INTO hub_link_levels VALUES (?, ?, ?, ?)", [comp, gamma, label, weight])
    predict(db, [input_table], model, "__link_scored", cfg.lower)
    wcols = [c for c, _ in db.columns("__link_scored") if c.startswith("mw_")]
    gammas = (
        "json_object(" + ", ".join(f"'{c[3:]}', round(p.{c}, 2)" for c in wcols) + ")" if wcols else "NULL"
    )
    db.execute(_PAIRS.format(gammas=gammas, input=input_table), {"upper": cfg.upper, "now": now})
    db.execute("DROP TABLE IF EXISTS __link_scored")
    return int(db.scalar("SELECT count(*) FROM hub_link_pairs")), trained


def run_linkage(db: Database, config: LinkageConfig | None = None, submission_id: int | None = None,
                now: datetime | None = None) -> LinkSummary:  # fmt: skip
    """The whole linkage stage over the store (idempotent; file-order independent)."""
    cfg, now = config or LinkageConfig(), now or datetime.now()
    # Filling a row or flagging a misused ID changes the records; repeat until nothing changes so one
    # call reaches the fixed point (a second call then changes nothing: idempotent).
    filled, trained_any = 0, False
    for _ in range(MAX_PASSES):
        misused = flag_id_misuse(db, now)
        records = build_input(db)
        pairs, trained = link_records(db, cfg, now)
        fill = resolve_rejected(db, submission_id, cfg, now)
        filled, trained_any = filled + fill.filled, trained_any or trained
        if not fill.filled:
            break
    fill = FillResult(filled, fill.with_candidates, fill.without_candidates)
    clusters = cluster_records(db, INPUT)
    with db.transaction():
        codes = assign_codes(db, "__link_clusters", now)
    review = int(db.scalar(
        "SELECT count(*) FROM hub_link_pairs p WHERE status = 'review' "
        "AND pair_id NOT IN (SELECT pair_id FROM hub_link_decisions)"))  # fmt: skip
    return LinkSummary(records, pairs, review, misused, fill, clusters, codes, trained_any)
