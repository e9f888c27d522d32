"""Linkage scored on Spark by Splink's Spark backend equals the linkage scored on DuckDB: every
comparison level decides the same on both engines (generated records and edge cases), and on the
sample data and a linkage sequence (a first load, an upload linked against the store, a withdrawal)
the scored pairs (ids, match weight, status), clusters, codes, fills and misuse flags are equal.
The model is trained once, on DuckDB; both engines predict with it."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from benchmarks.gen_chinese_linkage import generate, load
from hub.dedupe.linkage import LinkageConfig, run_linkage
from hub.dedupe.linkage.chinese import PERSON_SPEC
from hub.dedupe.linkage.engine import predict as duckdb_predict
from hub.dedupe.linkage.incremental import link_delta, record_state
from hub.dedupe.linkage.records import INPUT, build_input
from hub.store.db import Database
from hub.store.spark_link import SCORING_CONF, spark_settings
from tests.linkage.test_link_delta import TABLES as LINKAGE_TABLES
from tests.spark.test_merge_spark import copy_store

pytestmark = pytest.mark.spark
EXCLUDED = "spark.sql.optimizer.excludedRules"
NOW = datetime(2026, 3, 1, 12, 0)
# the linkage tables the incremental replay compares, the scores rounded (two engines' floating point)
TABLES = {
    **LINKAGE_TABLES,
    "hub_link_pairs": "uid_l, uid_r, round(match_probability, 9), round(match_weight, 6), status, rule, "
    "CAST(gammas AS VARCHAR)",
}


def linkage_tables(db: Database) -> dict[str, list[Any]]:
    return {t: sorted(map(tuple, db.rows(f"SELECT {c} FROM {t}")), key=repr) for t, c in TABLES.items()}


class DuckDBScoring:
    """The store's own Splink (the fixture below refuses it to the Spark runs)."""

    def predict_pairs(
        self, db: Database, table: str, model: dict[str, Any], out: str, threshold: float
    ) -> int:
        return duckdb_predict(db, [table], model, out, threshold)


class Seen:
    """An engine whose every scoring is kept in the store's ``seen`` (pass, pair, probability and
    weights rounded): every scored pair, also those of one valid ID that ``hub_link_pairs`` leaves out."""

    def __init__(self, engine: Any) -> None:
        self.engine, self.passes = engine, 0

    def predict_pairs(
        self, db: Database, table: str, model: dict[str, Any], out: str, threshold: float
    ) -> int:
        n = int(self.engine.predict_pairs(db, table, model, out, threshold))
        self.passes += 1
        weights = ", ".join(f"round({c}, 6) AS {c}" for c, _ in db.columns(out) if c.startswith("mw_"))
        select = (
            f"SELECT {self.passes} AS pass, uid_l, uid_r, round(match_probability, 9) AS p, "
            f"round(match_weight, 6) AS w, {weights} FROM {out}"
        )
        db.execute(f"CREATE TABLE IF NOT EXISTS seen AS {select} LIMIT 0")
        db.execute(f"INSERT INTO seen {select}")
        return n


@pytest.fixture
def no_duckdb_scoring(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scoring with the store's Splink fails: a Spark run that passes did not score there."""

    def refuse(*args: Any, **kwargs: Any) -> int:
        raise AssertionError("scored on DuckDB")

    monkeypatch.setattr("hub.dedupe.linkage.engine.predict", refuse)


# edge cases beside the generated records: one character apart, traditional, homophones, an ID with
# two digits swapped / one dropped / one mistyped, an Excel-truncated ID, day and month swapped,
# month precision, several phones, empty fields
_EDGE = """
INSERT INTO hub_link_input (uid, name, name_s, py_key, py_set, sex, birth_date, birth_precision,
    village_code, phone1, phone, id_valid, id17, id_fuzzy, id_prefix, name_year, nv_name_year) VALUES
('e1', '张三', '张三', 'zhang san', ['zhang san'], '1', DATE '1990-03-04', 'day', '331099001001',
 '13800000001', '13800000001;13900000002', '330727199003041234', '33072719900304123', '330727199003041234', NULL, NULL, NULL),
('e2', '張三', '张三', 'zhang san', ['zhang san', 'zhang shen'], '1', DATE '1990-04-03', 'day', '331099001002',
 '13900000002', '13900000002', NULL, '33072719900304213', '330727199003042134', NULL, NULL, NULL),
('e3', '张四', '张四', 'zhang si', ['zhang si'], '2', DATE '1990-03-01', 'month', '331099101001',
 NULL, NULL, NULL, NULL, '33072719900304134', '330727199003041', NULL, NULL),
('e4', '章三', '章三', 'zhang san', ['zhang san'], NULL, DATE '1990-03-04', 'day', NULL,
 '13800000001', '13800000001;', NULL, NULL, '330727199003051234', '330727199003041', NULL, NULL),
('e5', NULL, NULL, NULL, NULL, '9', NULL, NULL, '331099001001',
 '', '', NULL, NULL, '3', NULL, NULL, NULL),
('e6', '李', '李', 'li', ['li'], '1', DATE '1990-03-04', 'day', '331099001001',
 NULL, ';', '330727199003041234', '33072719900304123', '330727199003041234', NULL, NULL, NULL)
"""


def test_every_comparison_level_decides_the_same_on_spark(spark_engine: Any) -> None:
    """Each level's condition (DuckDB SQL as the model holds it; transpiled for Spark) is evaluated
    on both engines over the same pairs: the generated records' blocked pairs and a sample of the
    rest, and every pair of the edge cases."""
    db = Database(None)
    load(db, generate(150, seed=11))
    build_input(db)
    db.execute(_EDGE)
    cols = [c for c, _ in db.columns(INPUT)]
    both = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in cols)
    rules = " OR ".join(f"({r})" for r in PERSON_SPEC.blocking_rules)
    db.execute(
        f"CREATE TABLE pairs AS SELECT {both} FROM {INPUT} l JOIN {INPUT} r ON l.uid < r.uid "
        f"AND ({rules} OR hash(l.uid || r.uid) % 20 = 0 OR (l.uid LIKE 'e_' AND r.uid LIKE 'e_'))"
    )
    duck_levels = [lv["sql_condition"] for c in PERSON_SPEC.comparisons for lv in c["comparison_levels"]]
    spark_levels = [
        lv["sql_condition"]
        for c in spark_settings(PERSON_SPEC.settings())["comparisons"]
        for lv in c["comparison_levels"]
    ]
    conditions = [(d, s) for d, s in zip(duck_levels, spark_levels, strict=True) if d != "ELSE"]
    assert any("damerau_levenshtein" in d for d, _ in conditions)

    def decided(sql: str) -> str:
        return f"CASE WHEN {sql} THEN 1 ELSE 0 END"

    on_duckdb = db.rows(
        f"SELECT uid_l, uid_r, {', '.join(decided(d) for d, _ in conditions)} FROM pairs ORDER BY 1, 2"
    )
    spark_engine.publish(db, "pairs", None)
    spark_engine.read("pairs").createOrReplaceTempView("pairs")
    on_spark = spark_engine.rows(
        f"SELECT uid_l, uid_r, {', '.join(decided(s) for _, s in conditions)} FROM pairs ORDER BY 1, 2"
    )
    assert len(on_duckdb) > 500
    for i, (duck, _) in enumerate(conditions):
        hits = [r[:2] for r in on_duckdb if r[2 + i]]
        assert hits, f"no pair meets {duck}: the level is not exercised"
        assert [r[:2] for r in on_spark if r[2 + i]] == hits, duck
    # the edge cases meet the levels they were written for, on both engines
    edge = {r[:2]: r[2:] for r in on_spark if r[0].startswith("e") and r[1].startswith("e")}
    level = {d: i for i, (d, _) in enumerate(conditions)}
    assert edge[("e1", "e3")][level["levenshtein(name_s_l, name_s_r) <= 1"]]
    assert edge[("e1", "e2")][level["damerau_levenshtein(id_fuzzy_l, id_fuzzy_r) <= 1"]]  # swapped digits
    assert edge[("e1", "e3")][level["damerau_levenshtein(id_fuzzy_l, id_fuzzy_r) <= 1"]]  # one dropped
    assert not edge[("e2", "e4")][level["damerau_levenshtein(id_fuzzy_l, id_fuzzy_r) <= 1"]]


def test_sample_linkage_on_spark_equals_duckdb(
    spark_engine: Any,
    sample_ingested: tuple[Path, Any],
    tmp_path: Path,
    no_duckdb_scoring: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home, _ = sample_ingested
    # which optimiser rules were off while each of Splink's steps was computed (written to Parquet)
    from splink.internals.spark.database_api import SparkAPI

    steps: list[tuple[str, Any]] = []
    computed = SparkAPI._break_lineage_and_repartition

    def seen_step(self: Any, df: Any, templated_name: str, physical_name: str) -> Any:
        steps.append((templated_name, spark_engine.spark.conf.get(EXCLUDED, None)))
        return computed(self, df, templated_name, physical_name)

    monkeypatch.setattr(SparkAPI, "_break_lineage_and_repartition", seen_step)
    model = tmp_path / "model.json"
    shutil.copy(home / "linkage" / "model.json", model)
    cfg = LinkageConfig(model_path=model)
    stores = {}
    for name in ("duckdb", "spark"):
        stores[name] = tmp_path / f"{name}.duckdb"
        copy_store(home, stores[name])
        with Database(stores[name]) as db:  # every pair scored, every cluster and code made again
            for table in ("hub_link_pairs", "hub_link_clusters", "hub_codes"):
                db.execute(f"DELETE FROM {table}")
    with Database(stores["duckdb"]) as db:
        duck = run_linkage(db, cfg, now=NOW, engine=Seen(DuckDBScoring()))  # type: ignore[arg-type]
        expected = linkage_tables(db)
        scored = sorted(db.rows("SELECT * FROM seen"))
    with Database(stores["spark"]) as db:
        on_spark = Seen(spark_engine)
        got = run_linkage(db, cfg, now=NOW, engine=on_spark)  # type: ignore[arg-type]
        assert sorted(db.rows("SELECT * FROM seen")) == scored
        assert linkage_tables(db) == expected
    assert (got.pairs, got.review, got.clusters, got.codes) == (
        duck.pairs,
        duck.review,
        duck.clusters,
        duck.codes,
    )
    # not a comparison of empty tables: pairs scored (most of the sample's share a valid ID: not kept
    # in hub_link_pairs), one for review, persons clustered and coded
    assert len(scored) > 100 and len({r[4] for r in scored}) > 10
    assert "review" in {r[4] for r in expected["hub_link_pairs"]}
    assert got.clusters > 100 and len(expected["hub_codes"]) > 100, got
    # Splink's scoring step ran with the filter push-down off (else Spark interprets it at scale:
    # spark_link's docstring), and only that step; the session has its own setting back after it
    assert [name for name, rules in steps if rules] == ["__splink__df_predict"] * on_spark.passes
    assert {rules for _, rules in steps} == {None, SCORING_CONF[EXCLUDED]}
    assert spark_engine.spark.conf.get(EXCLUDED, None) is None
    # the records Spark read were published for the scoring only; Splink's scratch folder is gone
    assert not (spark_engine.warehouse / INPUT).exists()
    assert not list(spark_engine.warehouse.glob(".splink.*"))
    assert not [t.name for t in spark_engine.spark.catalog.listTables() if t.name.startswith("__splink__")]
    # nor what it persisted (a long-lived process scores again and again)
    assert spark_engine.spark._jsparkSession.sharedState().cacheManager().isEmpty()


def _part(data: dict[str, list[dict[str, Any]]], sids: set[int]) -> dict[str, list[dict[str, Any]]]:
    part = {k: [r for r in v if r["submission_id"] in sids] for k, v in data.items() if k != "truth"}
    return {k: v for k, v in part.items() if v}


def test_a_linkage_sequence_on_spark_equals_duckdb(
    spark_engine: Any, tmp_path: Path, no_duckdb_scoring: None
) -> None:
    """The linkage property test's history (tests/linkage/test_link_delta.py), shortened: the first
    half of the submissions linked in full, then an upload and a withdrawal, each linked against the
    store; the store scored by Splink on DuckDB and the store scored by Splink on Spark stay equal."""
    data = generate(400, seed=3)
    sids = sorted(s["submission_id"] for s in data["hub_submissions"])
    first, upload = set(sids[: len(sids) // 2]), set(sids[len(sids) // 2 :][:3])
    cfg = LinkageConfig(model_path=tmp_path / "model.json")
    duck, spark = Database(None), Database(None)
    engines = {id(duck): DuckDBScoring(), id(spark): spark_engine}
    for db in (duck, spark):  # the first: the model trained on DuckDB and saved; the second reuses it
        load(db, _part(data, first))
        record_state(db, run_linkage(db, cfg, now=NOW, engine=engines[id(db)]).plain)
    assert linkage_tables(spark) == linkage_tables(duck)
    for step, change in (("upload", upload), ("withdraw", {sids[0]})):
        for db in (duck, spark):
            if step == "upload":
                load(db, _part(data, change))
            else:
                for table in ("hub_findings", "hub_rows", "hub_columns", "hub_submissions"):
                    db.execute(f"DELETE FROM {table} WHERE submission_id = ?", [min(change)])
            done = link_delta(db, cfg, NOW, engine=engines[id(db)])
            assert done is not None and done.incremental, step
            record_state(db, done.plain)
        assert linkage_tables(spark) == linkage_tables(duck), step
    assert duck.scalar("SELECT count(*) FROM hub_link_fills") and duck.scalar(
        "SELECT count(*) FROM hub_link_misuse"
    )
