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


def _linker(db: Database, tables: list[str], settings: dict[str, Any] | str) -> Any:
    from splink import DuckDBAPI, Linker

    logging.getLogger("splink").setLevel(logging.ERROR)
    # a cursor: a second connection to the same database (the hub connection may hold a pending result)
    api = DuckDBAPI(connection=db.con.cursor())
    frames = [api.register(t) for t in tables]
    return Linker(frames if len(frames) > 1 else frames[0], settings, log_level=None)


def train(
    db: Database, tables: list[str], spec: LinkSpec, model_path: Path | None = None, seed: int = 7
) -> dict[str, Any]:
    """Train ``spec`` on ``tables`` (table names in ``db``); save the model JSON to ``model_path``
    when given; return the model dict."""
    linker = _linker(db, tables, spec.settings())
    t = linker.training
    t.estimate_probability_two_random_records_match(
        [{"blocking_rule": r, "sql_dialect": "duckdb"} for r in spec.prior_rules], recall=spec.prior_recall
    )
    t.estimate_u_using_random_sampling(
        max_pairs=spec.u_max_pairs, seed=seed, min_count_per_level=None, num_chunks=1
    )
    # levels no sampled pair fell into: the rule-of-three bound, set before EM (EM uses u, keeps it fixed)
    n = sum(int(db.scalar(f"SELECT count(*) FROM {tab}")) for tab in tables)
    sampled = min(spec.u_max_pairs, n * (n - 1) / 2)
    model = bound_unobserved_u(linker.misc.save_model_to_json(), sampled)
    for label, rule in spec.u_given.items():
        conditional_u(db, tables, model, label, rule, spec.unique_id)
    linker = _linker(db, tables, model)
    t = linker.training
    for rule in spec.em_rules:
        t.estimate_parameters_using_expectation_maximisation(
            {"blocking_rule": rule, "sql_dialect": "duckdb"}, record_sample_proportion=spec.em_sample
        )
    model = linker.misc.save_model_to_json()
    if model_path is not None:
        model_path.parent.mkdir(parents=True, exist_ok=True)
        model_path.write_text(json.dumps(model, ensure_ascii=False, indent=1), encoding="utf-8")
    return model


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
    linker = _linker(db, tables, {**model, "retain_intermediate_calculation_columns": True})
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
