"""The linkage run: flag misused IDs, build records, score pairs, fill rejected rows, cluster, codes.

Hook (after every ingest, before ``hub.dedupe.merge``): ``run_linkage(db)``. It keeps rows whose ID
was misused out of the merge (``accepted = false``), accepts rejected rows it could fill, and gives
every record its stable person code (``hub_link_clusters``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hub.dedupe.linkage.chinese import PERSON_SPEC
from hub.dedupe.linkage.config import LinkageConfig
from hub.dedupe.linkage.engine import default_model, fit, level_weights, load_model, save_model
from hub.dedupe.linkage.fill import FillResult, resolve_rejected
from hub.dedupe.linkage.graph import cluster_records
from hub.dedupe.linkage.guard import Guarded, guard, persist, twin_clusters
from hub.dedupe.linkage.misuse import flag_id_misuse
from hub.dedupe.linkage.records import INPUT, build_input
from hub.dedupe.linkage.stable import assign_codes
from hub.store.db import Database
from hub.timings import span

if TYPE_CHECKING:
    from hub.store.engine import QueryEngine

_PAIRS = """
INSERT INTO hub_link_pairs
SELECT left(md5(p.uid_l || '|' || p.uid_r), 12), p.uid_l, p.uid_r, p.match_probability, p.match_weight,
       {gammas},
       CASE WHEN l.id_valid <> r.id_valid THEN 'blocked' WHEN p.match_probability >= $upper THEN 'auto' ELSE 'review' END,
       CASE WHEN l.id_valid <> r.id_valid THEN '两个不同的有效身份证号码不是同一人'
            WHEN p.match_probability >= $upper THEN '匹配概率不低于上限阈值，自动合并'
            ELSE '匹配概率介于上下限阈值之间，需人工确认' END,
       $now,
       {levels}
FROM __link_scored p JOIN {input} l ON l.uid = p.uid_l JOIN {input} r ON r.uid = p.uid_r
WHERE l.id_valid IS DISTINCT FROM r.id_valid OR l.id_valid IS NULL
"""


MAX_PASSES = 4

#: Names of the blocking rules in warnings (docs/linkage.md).
BLOCK_LABELS = {
    "l.id17 = r.id17": "身份证号前17位相同",
    "l.py_key = r.py_key AND l.birth_date = r.birth_date": "姓名同音且出生日期相同",
    "l.py_key = r.py_key AND l.village_code = r.village_code": "姓名同音且同村",
    "l.birth_date = r.birth_date AND l.village_code = r.village_code": "出生日期相同且同村",
    "l.phone1 = r.phone1": "电话相同",
    "l.nv_name_year = r.name_year": "无有效身份证号者姓名和出生年份相同",
    "l.name_year = r.nv_name_year": "无有效身份证号者姓名和出生年份相同",
}

#: The one warning of a run whose model could not be trained (docs/linkage.md).
UNTRAINED_WARNING = "人员比对：数据太少，无法训练比对模型（{reasons}），已使用{model}和确定性规则。"


@dataclass(frozen=True)
class LinkSummary:
    records: int
    pairs: int  # scored pairs kept (>= lower threshold, not the same valid ID)
    review: int  # pairs waiting for a steward
    misused: int  # rows flagged id-misused
    fill: FillResult
    #: Persons (clusters) after the run; None after an incremental run, which does not count them
    #: (a scan of every record's cluster, and nothing shows the figure after an upload).
    clusters: int | None
    codes: dict[str, int]
    trained: bool
    #: At most one line (Chinese): the model could not be trained, and what was used instead.
    warnings: list[str] = field(default_factory=list)
    #: The run scored with the saved model (its collapsed twins and guarded blocks kept by
    #: ``guard.persist``): an upload or a review decision may then be linked without re-scoring the
    #: store (hub.dedupe.linkage.incremental).
    plain: bool = False
    #: Only what changed since the last run was scored (hub.dedupe.linkage.incremental.link_delta).
    incremental: bool = False


@dataclass(frozen=True)
class ModelChoice:
    """The model a run scores with: the saved one, one trained now (and saved), or — when the store is
    too small or too new to train — the saved or default model (or a model partly trained, the rest
    from those), with the warning that says so."""

    model: dict[str, Any]
    trained: bool
    warning: str | None = None


def choose_model(db: Database, cfg: LinkageConfig, input_table: str = INPUT) -> ModelChoice:
    """The saved model unless ``cfg.retrain``; else train on ``input_table`` (and save the model); a
    store too small to train on (fewer than ``cfg.min_records_to_train`` records, or a training step
    that cannot run: see :func:`hub.dedupe.linkage.engine.fit`) gets the saved or default model and a
    warning. No warning for an empty store: there is nothing to link."""
    n = int(db.scalar(f"SELECT count(*) FROM {input_table}"))
    saved = load_model(cfg.model_path, PERSON_SPEC)
    if saved is not None and not cfg.retrain:
        return ModelChoice(saved, False)
    base, used = (saved, "保存的模型") if saved is not None else (default_model(PERSON_SPEC, n), "默认模型")
    if n < cfg.min_records_to_train:
        reason = f"只有 {n} 条人员记录，训练至少需要 {cfg.min_records_to_train} 条"
        return ModelChoice(base, False, UNTRAINED_WARNING.format(reasons=reason, model=used) if n else None)
    fitted = fit(db, [input_table], PERSON_SPEC, base)
    if fitted.complete:
        save_model(fitted.model, cfg.model_path)
        return ModelChoice(fitted.model, True)
    return ModelChoice(
        fitted.model, False, UNTRAINED_WARNING.format(reasons="；".join(fitted.skipped), model=used)
    )


def link_records(
    db: Database,
    cfg: LinkageConfig,
    now: datetime,
    input_table: str = INPUT,
    choice: ModelChoice | None = None,
    guarded: Guarded | None = None,
    engine: QueryEngine | None = None,
) -> tuple[int, ModelChoice]:
    """Score the pairs of ``input_table`` into ``hub_link_pairs`` with ``choice`` (by default
    :func:`choose_model`). ``guarded`` (:func:`hub.dedupe.linkage.guard.guard`): score its table with
    its guarded rules and train on its training table instead. ``engine`` scores (its
    ``predict_pairs``: Splink on the store, by default, or on Spark); the model is trained on the store.
    Returns (pairs kept, the model used)."""
    if guarded is not None:
        input_table = guarded.table
    if choice is None:
        with span("link.train"):  # loaded, trained or defaulted
            choice = choose_model(db, cfg, guarded.train if guarded else input_table)
    db.execute("DELETE FROM hub_link_pairs")
    db.execute("DELETE FROM hub_link_levels")
    for comp, levels in level_weights(choice.model).items():
        for gamma, (label, weight) in levels.items():
            db.execute("INSERT INTO hub_link_levels VALUES (?, ?, ?, ?)", [comp, gamma, label, weight])
    if int(db.scalar(f"SELECT count(*) FROM {input_table}")) < 2:
        return 0, choice  # no pair to score
    model = choice.model
    if guarded is not None and guarded.rules:
        rules = model.get("blocking_rules_to_generate_predictions", [])
        model = {**model, "blocking_rules_to_generate_predictions": [
            {**r, "blocking_rule": guarded.rules.get(r["blocking_rule"], r["blocking_rule"])} for r in rules]}  # fmt: skip
    with span("link.score"):
        scorer(db, engine).predict_pairs(db, input_table, model, "__link_scored", cfg.lower)
    store_pairs(db, cfg, now, input_table, model)
    db.execute("DROP TABLE IF EXISTS __link_scored")
    return int(db.scalar("SELECT count(*) FROM hub_link_pairs")), choice


def scorer(db: Database, engine: QueryEngine | None) -> QueryEngine:
    """Where the pairs are scored: ``engine``, or the store itself."""
    from hub.store.engine import StoreEngine

    return engine if engine is not None else StoreEngine(db)


def store_pairs(
    db: Database,
    cfg: LinkageConfig,
    now: datetime,
    input_table: str = INPUT,
    model: Mapping[str, Any] | None = None,
    records: str | None = None,
) -> None:
    """Insert the scored pairs of ``__link_scored`` into ``hub_link_pairs`` with their status, the
    weight each comparison contributed and, with ``model``, the level each reached (ids looked up in
    ``input_table``; the levels evaluated on ``records``, the table that was scored, by default
    ``input_table``)."""
    records = records or input_table
    wcols = [c for c, _ in db.columns("__link_scored") if c.startswith("mw_")]
    gammas = (
        "json_object(" + ", ".join(f"'{c[3:]}', round(p.{c}, 2)" for c in wcols) + ")" if wcols else "NULL"
    )
    levels = "NULL"
    if model is not None and (cases := _level_cases(model, [c for c, _ in db.columns(records)])):
        levels = f"(SELECT v.levels FROM {LEVELS} v WHERE v.uid_l = p.uid_l AND v.uid_r = p.uid_r)"
        both = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in sorted(_columns_read(model)))
        db.execute(
            f"""CREATE OR REPLACE TEMP TABLE {LEVELS} AS
            SELECT uid_l, uid_r, json_object({cases}) AS levels FROM (
                SELECT p.uid_l, p.uid_r, {both} FROM __link_scored p
                JOIN {records} l ON l.uid = p.uid_l JOIN {records} r ON r.uid = p.uid_r)"""
        )
    try:
        db.execute(
            _PAIRS.format(gammas=gammas, levels=levels, input=input_table), {"upper": cfg.upper, "now": now}
        )
    finally:
        db.execute(f"DROP TABLE IF EXISTS {LEVELS}")


LEVELS = "__link_pair_levels"


def _level_cases(model: Mapping[str, Any], columns: list[str]) -> str:
    """``'comparison', CASE … END`` per comparison: the level a pair reached (Splink's gamma: -1 for
    the null level, else counted down from the first level), evaluated on the kept pairs only (a few
    thousand at 1M persons; Splink's own gamma columns would be carried through every blocked pair).
    Empty when a condition reads a column the input does not have."""
    if _columns_read(model) - set(columns):
        return ""
    parts = []
    for comp in model.get("comparisons", []):
        levels = comp["comparison_levels"]
        counted = [lv for lv in levels if not lv.get("is_null_level")]
        whens = []
        for lv in levels:
            cond = str(lv["sql_condition"]).strip()
            gamma = -1 if lv.get("is_null_level") else len(counted) - 1 - counted.index(lv)
            whens.append(f"ELSE {gamma}" if cond.upper() == "ELSE" else f"WHEN {cond} THEN {gamma}")
        parts.append(f"'{comp['output_column_name']}', CASE {' '.join(whens)} END")
    return ", ".join(parts)


def _columns_read(model: Mapping[str, Any]) -> set[str]:
    """The record columns the model's comparison levels read (``name`` of ``name_l``, ``name_r``)."""
    import re

    conditions = (lv["sql_condition"] for c in model.get("comparisons", []) for lv in c["comparison_levels"])
    return {col for cond in conditions for col in re.findall(r"\b([a-z][a-z_0-9]*)_[lr]\b", str(cond))}


def run_linkage(db: Database, config: LinkageConfig | None = None, submission_id: int | None = None,
                now: datetime | None = None, engine: QueryEngine | None = None) -> LinkSummary:  # fmt: skip
    """The whole linkage stage over the store (idempotent; file-order independent); the pairs scored
    by ``engine`` (the store's own Splink by default)."""
    cfg, now = config or LinkageConfig(), now or datetime.now()
    # Filling a row or flagging a misused ID changes the records; repeat until nothing changes so one
    # call reaches the fixed point (a second call then changes nothing: idempotent).
    # The model is chosen (loaded, trained or defaulted) once, in the first pass.
    filled, choice = 0, None
    # until this run ends, the linkage tables are not what a full run leaves (record_state, at the end)
    db.execute("UPDATE hub_link_state SET plain = false")
    for _ in range(MAX_PASSES):
        misused = flag_id_misuse(db, now)
        records = build_input(db)
        guarded = guard(db, INPUT, PERSON_SPEC.blocking_rules, max_identical=cfg.max_identical,
                        max_block=cfg.max_block, labels=BLOCK_LABELS)  # fmt: skip
        pairs, choice = link_records(db, cfg, now, choice=choice, guarded=guarded, engine=engine)
        fill = resolve_rejected(db, submission_id, cfg, now, twins=guarded.twins)
        filled += fill.filled
        if not fill.filled:
            break
    assert choice is not None
    persist(db, guarded, cfg.max_identical, cfg.max_block)  # what link_delta scores against next time
    fill = FillResult(filled, fill.with_candidates, fill.without_candidates)
    clusters = cluster_records(db, guarded.table)
    if guarded.twins:
        twin_clusters(db, guarded.twins, "__link_clusters")
        clusters = int(db.scalar("SELECT count(DISTINCT cluster_key) FROM __link_clusters"))
    with db.transaction():
        codes = assign_codes(db, "__link_clusters", now)
    review = int(db.scalar(
        "SELECT count(*) FROM hub_link_pairs p WHERE status = 'review' "
        "AND pair_id NOT IN (SELECT pair_id FROM hub_link_decisions)"))  # fmt: skip
    warnings = ([choice.warning] if choice.warning else []) + guarded.warnings
    # collapsed twins and guarded blocks are kept (guard.persist): an upload is linked against them
    plain = choice.warning is None and cfg.model_path.exists()
    return LinkSummary(
        records, pairs, review, misused, fill, clusters, codes, choice.trained, warnings, plain
    )
