"""The linkage engine: Splink on the hub's own DuckDB connection.

A :class:`LinkSpec` is data (comparisons as Splink comparison dicts, blocking rules as SQL); the same
engine trains, saves, reloads and scores any spec — the hub's Chinese person records
(:mod:`hub.dedupe.linkage.chinese`) and the FEBRL4 benchmark alike. Training uses only the data being
linked (nothing downloaded): the prior from deterministic rules, u by random sampling, m by
expectation maximisation on blocks that leave the trained fields free. A level the random sample
never shows (a number one digit away from another's: rare between two different people, so rare that
two million random pairs hold none) gets the "rule of three" upper bound ``u = 3 / pairs sampled``
(95 % confidence) instead of Splink's positional default, which would make the strongest evidence
count as weak or even negative. The trained model is a Splink JSON file and is reused until
:func:`train` is called again (:func:`load_model` refuses one trained for another spec's comparisons
or blocking rules).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.store.db import Database

PAIRS_COLUMNS = ("uid_l", "uid_r", "match_probability", "match_weight")


@dataclass(frozen=True)
class LinkSpec:
    """What to compare and how to block. ``comparisons`` are Splink comparison dicts whose SQL uses
    ``<column>_l`` / ``<column>_r``; rules are SQL over ``l.`` / ``r.``."""

    comparisons: list[dict[str, Any]]
    blocking_rules: list[str]
    em_rules: list[str]
    prior_rules: list[str]
    prior_recall: float = 0.8
    link_type: str = "dedupe_only"
    unique_id: str = "uid"
    u_max_pairs: float = 2e6
    em_sample: float = 1.0
    extra_columns: list[str] = field(default_factory=list)
    #: ``{level label: blocking rule}``: that level's u is measured among the pairs of the rule (the
    #: share of them, with the comparison not null, that fall into the level) instead of among random
    #: pairs — for a level that restates what another comparison's agreement, fixed by the rule, has
    #: already counted (so the two are not multiplied as if independent).
    u_given: dict[str, str] = field(default_factory=dict)
    #: ``{comparison: {level label: (m, u)}}``: the default model's parameters (:func:`default_model`),
    #: used when there is no saved model and training cannot run (a small or new store).
    default_levels: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    #: The default model's prior: other records of the same person per record, on average.
    matches_per_record: float = 1 / 3
    #: An EM rule with fewer pairs than this is not trained on (its parameters are the base model's).
    min_em_pairs: int = 20
    #: Readable names of the training rules, for the warning that says why one could not be used.
    rule_labels: dict[str, str] = field(default_factory=dict)

    def settings(self) -> dict[str, Any]:
        return {
            "link_type": self.link_type,
            "unique_id_column_name": self.unique_id,
            "comparisons": self.comparisons,
            "blocking_rules_to_generate_predictions": [
                {"blocking_rule": r, "sql_dialect": "duckdb"} for r in self.blocking_rules
            ],
            "retain_matching_columns": False,
            "retain_intermediate_calculation_columns": False,
            "additional_columns_to_retain": self.extra_columns,
        }


def _linker(db: Database, tables: list[str], settings: dict[str, Any] | str, validate: bool = True) -> Any:
    """A Splink linker over ``tables``. ``validate=False`` for a saved model, whose settings were
    checked when it was trained: Splink's check only logs, and it was half of an upload's linker cost
    (it parses every comparison's SQL again)."""
    from splink import DuckDBAPI, Linker

    logging.getLogger("splink").setLevel(logging.ERROR)
    # a cursor: a second connection to the same database (the hub connection may hold a pending result)
    api = DuckDBAPI(connection=db.con.cursor())
    frames = [api.register(t) for t in tables]
    return Linker(
        frames if len(frames) > 1 else frames[0], settings, log_level=None, validate_settings=validate
    )


class TrainingError(Exception):
    """A training step cannot run on the data at hand (too few records or pairs); ``reason`` says why,
    in Chinese, for the linkage summary's warning."""

    def __init__(self, reason: str, pairs: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        #: For an EM rule with too few pairs: how many it has (the reasons of such rules are joined).
        self.pairs = pairs


@dataclass(frozen=True)
class Fitted:
    """A model and the training steps that could not run (their parameters are the base model's)."""

    model: dict[str, Any]
    skipped: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.skipped


#: Fewer pairs than this for random sampling: u and the prior are not estimated (the base model's kept).
MIN_SAMPLED_PAIRS = 1000
# Splink's own messages for the conditions a small store meets (it raises ValueError for them).
_RECALL_TOO_LOW = "more observed matches than is consistent with supplied recall"
_BELOW_MINIMUM = "is below the minimum allowed value"


def default_model(spec: LinkSpec, records: int) -> dict[str, Any]:
    """The model used when there is no saved one and training cannot run: the spec's settings with
    ``spec.default_levels`` as m and u, and the prior ``spec.matches_per_record / (records - 1)``
    (each record has that many other records of the same person on average), at most 0.01 (in a
    store of a few records the rate says little, and namesakes born the same year must not merge on
    it). A level missing from
    ``default_levels`` keeps Splink's positional default."""
    model = spec.settings()
    model["probability_two_random_records_match"] = min(spec.matches_per_record / max(records - 1, 1), 0.01)
    for comp in model["comparisons"]:
        table = spec.default_levels.get(comp["output_column_name"], {})
        comp["comparison_levels"] = [dict(lv) for lv in comp["comparison_levels"]]
        for level in comp["comparison_levels"]:
            if not level.get("is_null_level") and (mu := table.get(level.get("label_for_charts", ""))):
                level["m_probability"], level["u_probability"] = mu
    return model


def _pairs_reach(db: Database, tables: list[str], spec: LinkSpec, rule: str, wanted: int) -> int:
    """How many pairs ``rule`` yields among ``tables``, counted up to ``wanted`` (the join stops there)."""
    uid = spec.unique_id
    source = " UNION ALL BY NAME ".join(f"SELECT {i} AS __src, * FROM {t}" for i, t in enumerate(tables))
    order = (
        "l.__src < r.__src" if spec.link_type == "link_only" else f"(l.__src, l.{uid}) < (r.__src, r.{uid})"
    )
    return int(db.scalar(
        f"SELECT count(*) FROM (SELECT 1 FROM ({source}) l JOIN ({source}) r ON ({rule}) AND {order} LIMIT {wanted})"
    ))  # fmt: skip


def _rule_name(spec: LinkSpec, rule: str) -> str:
    return spec.rule_labels.get(rule, rule)


def _estimate_prior(linker: Any, spec: LinkSpec) -> float:
    """Splink's prior from the deterministic rules, or :class:`TrainingError` when they cannot give one
    (no pair found, or nearly every possible pair found: a handful of records)."""
    rules = "、".join(_rule_name(spec, r) for r in spec.prior_rules)
    try:
        linker.training.estimate_probability_two_random_records_match(
            [{"blocking_rule": r, "sql_dialect": "duckdb"} for r in spec.prior_rules],
            recall=spec.prior_recall,
        )
    except ValueError as exc:
        if _RECALL_TOO_LOW not in str(exc):
            raise
        raise TrainingError(f"确定性规则（{rules}）几乎覆盖全部记录对，无法估计先验概率") from exc
    prior = linker.misc.save_model_to_json().get("probability_two_random_records_match")
    if not isinstance(prior, float) or not 0.0 < prior < 1.0 or not math.isfinite(prior):
        raise TrainingError(f"按确定性规则（{rules}）找不到同一人的记录对，无法估计先验概率")
    return prior


def _expectation_maximisation(
    db: Database, tables: list[str], spec: LinkSpec, linker: Any, rule: str
) -> None:
    """One EM session on ``rule``'s pairs, or :class:`TrainingError` when the rule yields fewer than
    ``spec.min_em_pairs`` pairs (EM on a few pairs learns those pairs, not the population) or Splink
    finds none or cannot represent what it estimated."""
    from splink.internals.exceptions import EMTrainingException

    name = _rule_name(spec, rule)
    found = _pairs_reach(db, tables, spec, rule, spec.min_em_pairs)
    if found < spec.min_em_pairs:
        raise TrainingError(f"“{name}”", found)
    try:
        linker.training.estimate_parameters_using_expectation_maximisation(
            {"blocking_rule": rule, "sql_dialect": "duckdb"}, record_sample_proportion=spec.em_sample
        )
    except EMTrainingException as exc:  # the sample held no pair of the rule
        raise TrainingError(f"训练规则“{name}”在抽样中没有可比的记录对") from exc
    except ValueError as exc:  # an m or u of 0: every pair of a level scored as certainly (not) a match
        if _BELOW_MINIMUM not in str(exc):
            raise
        raise TrainingError(f"训练规则“{name}”的记录对太少，参数估计为 0") from exc


def _fill_from(model: dict[str, Any], base: dict[str, Any]) -> bool:
    """Give ``model`` the base model's m and u where it has none it can use: a comparison no EM session
    trained (no level has an m), or a value that is not a finite probability. True when a value was
    not finite (a comparison left untrained is already explained by the step that was skipped)."""
    bases = {c["output_column_name"]: c for c in base.get("comparisons", [])}
    invalid = False
    for comp in model.get("comparisons", []):
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        fallback = {
            lv["sql_condition"]: lv
            for lv in bases.get(comp["output_column_name"], {}).get("comparison_levels", [])
        }
        untrained = not any(isinstance(lv.get("m_probability"), float) for lv in levels)
        for level in levels:
            source = fallback.get(level["sql_condition"], {})
            for key in ("m_probability", "u_probability"):
                value = level.get(key)
                bad = isinstance(value, float) and not (0.0 < value <= 1.0 and math.isfinite(value))
                invalid = invalid or bad
                if bad or (untrained and key == "m_probability"):
                    level.pop(key, None)
                    if key in source:
                        level[key] = source[key]
    prior = model.get("probability_two_random_records_match")
    if not isinstance(prior, float) or not (0.0 < prior < 1.0 and math.isfinite(prior)):
        model["probability_two_random_records_match"] = base["probability_two_random_records_match"]
        invalid = True
    return invalid


def fit(
    db: Database, tables: list[str], spec: LinkSpec, base: dict[str, Any] | None = None, seed: int = 7
) -> Fitted:
    """Train ``spec`` on ``tables`` (table names in ``db``) step by step: the prior from deterministic
    rules, u by random sampling, m by EM on each of ``spec.em_rules``. A step that cannot run on this
    data (too few records or pairs, Splink finding no comparison, a parameter it cannot estimate) is
    skipped with its reason and its parameters are ``base``'s (the saved model, or by default
    :func:`default_model`). Any other error is raised."""
    n = sum(int(db.scalar(f"SELECT count(*) FROM {tab}")) for tab in tables)
    base = base or default_model(spec, n)
    sampled = min(spec.u_max_pairs, n * (n - 1) / 2)
    if sampled < MIN_SAMPLED_PAIRS:
        return Fitted(base, [f"只有 {n} 条记录，{int(sampled)} 对，至少需要 {MIN_SAMPLED_PAIRS} 对"])
    skipped: list[str] = []
    linker = _linker(db, tables, spec.settings())
    try:
        prior = _estimate_prior(linker, spec)
    except TrainingError as exc:
        skipped.append(exc.reason)
        prior = base["probability_two_random_records_match"]
    linker.training.estimate_u_using_random_sampling(
        max_pairs=spec.u_max_pairs, seed=seed, min_count_per_level=None, num_chunks=1
    )
    # levels no sampled pair fell into: the rule-of-three bound, set before EM (EM uses u, keeps it fixed)
    model = bound_unobserved_u(linker.misc.save_model_to_json(), sampled)
    model["probability_two_random_records_match"] = prior
    for label, rule in spec.u_given.items():
        conditional_u(db, tables, model, label, rule, spec.unique_id)
    linker = _linker(db, tables, model)
    few: list[TrainingError] = []
    for rule in spec.em_rules:
        try:
            _expectation_maximisation(db, tables, spec, linker, rule)
        except TrainingError as exc:
            if exc.pairs is None:
                skipped.append(exc.reason)
            else:
                few.append(exc)
    if few:
        counts = "、".join(str(e.pairs) for e in few)
        skipped.append(
            f"训练规则{''.join(e.reason for e in few)}可比的记录对不足 {spec.min_em_pairs} 对（{'分别为 ' if len(few) > 1 else ''}"
            f"{counts} 对）"
        )
    model = linker.misc.save_model_to_json()
    if _fill_from(model, base):
        skipped.append("部分参数无法估计")
    return Fitted(model, skipped)


def train(
    db: Database, tables: list[str], spec: LinkSpec, model_path: Path | None = None, seed: int = 7
) -> dict[str, Any]:
    """Train ``spec`` on ``tables`` (:func:`fit`); save the model JSON to ``model_path`` when given and
    every step ran (a model partly made of defaults is not kept: the next run trains again); return
    the model dict."""
    fitted = fit(db, tables, spec, seed=seed)
    if model_path is not None and fitted.complete:
        save_model(fitted.model, model_path)
    return fitted.model


def save_model(model: dict[str, Any], model_path: Path) -> None:
    model_path.parent.mkdir(parents=True, exist_ok=True)
    model_path.write_text(json.dumps(model, ensure_ascii=False, indent=1), encoding="utf-8")


def bound_unobserved_u(model: dict[str, Any], sampled: float) -> dict[str, Any]:
    """``model`` with ``u = 3 / sampled`` on every non-null level random sampling left without a u
    (none of ``sampled`` pairs fell into it: the 95 % upper bound of the rule of three)."""
    bound = 3.0 / max(sampled, 3.0)
    for comp in model.get("comparisons", []):
        for level in comp["comparison_levels"]:
            if not level.get("is_null_level") and not isinstance(level.get("u_probability"), float):
                level["u_probability"] = bound
    return model


def conditional_u(
    db: Database, tables: list[str], model: dict[str, Any], label: str, rule: str, uid: str = "uid"
) -> None:
    """Set (in ``model``) the u of the level labelled ``label`` to its share of the pairs of ``rule`` (a
    symmetric rule) whose comparison is not null — matches included: an upper bound, close when the
    rule's blocks are large. Left as it is when the rule yields no such pair."""
    comp, level = next(
        (c, lv)
        for c in model["comparisons"]
        for lv in c["comparison_levels"]
        if lv.get("label_for_charts") == label
    )
    null = " OR ".join(
        f"({lv['sql_condition']})" for lv in comp["comparison_levels"] if lv.get("is_null_level")
    )
    source = " UNION ALL ".join(f"SELECT * FROM {t}" for t in tables)
    cols = [c for c, _ in db.columns(tables[0])]
    both = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in cols)
    hits, total = db.rows(
        f"""WITH src AS ({source})
        SELECT count(*) FILTER (WHERE {level["sql_condition"]}), count(*)
        FROM (SELECT {both} FROM src l JOIN src r ON ({rule}) AND l.{uid} < r.{uid}) p
        WHERE NOT coalesce({null or "false"}, false)"""
    )[0]
    if total and hits:
        level["u_probability"] = hits / total


def load_model(model_path: Path, spec: LinkSpec | None = None) -> dict[str, Any] | None:
    """The saved model, or ``None`` when there is none — or when ``spec`` is given and the model was
    trained for other comparisons or blocking rules (an older version of the spec: retrain)."""
    if not model_path.exists():
        return None
    model: dict[str, Any] = json.loads(model_path.read_text(encoding="utf-8"))
    if spec is not None and _shape(model) != _shape(spec.settings()):
        return None
    return model


def _shape(settings: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    rules = [r["blocking_rule"] for r in settings.get("blocking_rules_to_generate_predictions", [])]
    levels = [[lv["sql_condition"] for lv in c["comparison_levels"]] for c in settings.get("comparisons", [])]
    return rules, levels


def predict(db: Database, tables: list[str], model: dict[str, Any], out_table: str, threshold: float) -> int:
    """Score the blocked pairs of ``tables`` with ``model``; write pairs with probability ≥
    ``threshold`` to ``out_table`` (``uid_l, uid_r, match_probability, match_weight, mw_*`` (the weight each comparison
    contributed), with
    ``uid_l < uid_r``). Returns the number of pairs."""
    linker = _linker(db, tables, {**model, "retain_intermediate_calculation_columns": True}, validate=False)
    scored = linker.inference.predict(threshold_match_probability=threshold)
    uid = model.get("unique_id_column_name", "uid")
    gammas = [c for c in db.columns(scored.physical_name) if c[0].startswith("mw_")]
    gamma_sql = "".join(f", {name}" for name, _ in gammas)
    db.execute(
        f"""CREATE OR REPLACE TABLE {out_table} AS
        SELECT least({uid}_l, {uid}_r) AS uid_l, greatest({uid}_l, {uid}_r) AS uid_r,
               match_probability, match_weight{gamma_sql}
        FROM {scored.physical_name} WHERE {uid}_l <> {uid}_r"""
    )
    scored.drop_table_from_database_and_remove_from_cache()
    return int(db.scalar(f"SELECT count(*) FROM {out_table}"))


def level_weights(model: dict[str, Any]) -> dict[str, dict[int, tuple[str, float]]]:
    """``{comparison: {gamma: (label, log2 Bayes factor)}}`` from a trained model, to say which
    fields drove a pair (explain / review)."""
    import math

    out: dict[str, dict[int, tuple[str, float]]] = {}
    for comp in model.get("comparisons", []):
        name = comp.get("output_column_name", "")
        levels = [lv for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
        table: dict[int, tuple[str, float]] = {}
        for i, lv in enumerate(levels):
            gamma = len(levels) - 1 - i
            m, u = lv.get("m_probability"), lv.get("u_probability")
            bf = math.log2(m / u) if m and u else 0.0
            table[gamma] = (str(lv.get("label_for_charts") or lv["sql_condition"]), round(bf, 2))
        out[name] = table
    return out
