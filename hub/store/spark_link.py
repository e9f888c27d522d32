"""Linkage scoring on Spark: Splink's own Spark backend (``splink.SparkAPI``) predicts with the
saved model, over the records published to the warehouse.

1. **Records.** The store's records table (``hub_link_input``, or the table
   :func:`hub.dedupe.linkage.guard.guard` left) is published to ``warehouse/<table>/`` as Parquet
   (:meth:`hub.store.spark.SparkEngine.publish`) and read by Spark; the copy is removed once scored.
2. **Settings.** The model is the one trained on DuckDB (training stays there): its comparison
   levels and blocking rules are DuckDB SQL, parsed by sqlglot and rendered in the ``hubspark``
   dialect (:mod:`hub.store.spark_sql`) with every identifier quoted. No jar is loaded: the one
   comparison Spark lacks (``damerau_levenshtein(a, b) <= 1``) is plain Spark SQL there.
3. **Scores back.** Splink predicts on Spark; the pairs (``uid_l < uid_r``, the probability, the
   weight and each comparison's weight ``mw_*``) come back as Arrow into the store's
   ``out_table``, the table :func:`hub.dedupe.linkage.engine.predict` writes on DuckDB, where
   ``store_pairs``, clustering and the codes go on as before.

Splink cuts the lineage of its intermediate tables its default way (``break_lineage_method="parquet"``):
each is written as Parquet under the warehouse (``warehouse/.splink.<id>/``, Spark's checkpoint
directory for the run) and read back; the folder and Splink's temporary views are removed when the
scores are in the store. Nothing is left in Spark's cache (``persist`` would leave the rows of the
views Splink drops itself).

**The records are broadcast to Splink's joins when they fit** (:func:`records_broadcast`): when
the records take at most 1/:data:`BROADCAST_SHARE` of the memory a broadcast lands in
(``SparkEngine.broadcast_mb``: the driver's, or on a cluster the smaller of the driver's and the
executors'), counted at :data:`RECORD_BYTES` a record, the scoring runs with Spark's broadcast bound
raised to that size. At 1M persons with the default local driver (a quarter of a 24 GB machine),
``predict`` took 69–78 s instead of 122 s (the blocking's self-joins and the scoring step's two
joins without a shuffle of the 5.7 M pairs); with a 2 GB driver the same broadcast fails ("Not
enough memory to build and broadcast the table"), and 5M persons' records with a 10 GB driver made
the JVM fail in GC. Those, and a province's, are joined by shuffling, as before. The bound is
counted in rows, not from Spark's own size estimate: a projected side of a self-join is estimated
from its Parquet (tens of bytes a record) and held at several times that. A bound the deployment
sets (``HUB_SPARK_CONF=spark.sql.autoBroadcastJoinThreshold=…``) is left as it is.

**The scoring step runs with two of Spark's optimiser rules off** (:data:`SCORING_CONF`, for that step
only). Splink's scoring SQL computes each comparison's level (a ``CASE``), each level's weight (a
``CASE`` over the level) and filters on the sum of the weights (the threshold). Spark pushes that filter
below the projections and infers a not-NULL filter from it, substituting every weight and every level
into the filter: each level's ``CASE`` is copied once per branch of its weight's ``CASE``. The generated
Java then exceeds the JVM's 64 KB method limit, Spark logs "Failed to compile the generated Java code"
and interprets the whole step. Measured at 1,000,000 persons (5.7 million blocked pairs, ``local[2]``):
the step took 141 s with the rules on and 49–69 s with them off; the pairs scored are the same (93,001).
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from hub.errors import StoreError
from hub.store.engine import arrow_in_store

if TYPE_CHECKING:
    from hub.store.db import Database
    from hub.store.spark import SparkEngine

SPLINK_PREFIX = "__splink__"
#: What one linkage record takes once broadcast (a hashed relation of ~15 short strings), with room:
#: 1M records broadcast in a 4 GB driver, not in a 2 GB one.
RECORD_BYTES = 512
#: The records may take this share of the memory a broadcast lands in (1/8).
BROADCAST_SHARE = 8
SCORING_STEP = "__splink__df_predict"
SCORING_CONF = {
    "spark.sql.optimizer.excludedRules": "org.apache.spark.sql.catalyst.optimizer.PushDownPredicates",
    "spark.sql.constraintPropagation.enabled": "false",
}


@contextlib.contextmanager
def session_conf(spark: Any, conf: dict[str, str]) -> Iterator[None]:
    """``conf`` set on ``spark`` for the block, the earlier values back after it."""
    before = {key: spark.conf.get(key, None) for key in conf}
    for key, value in conf.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


def records_broadcast(rows: int, memory_mb: int) -> dict[str, str]:
    """Spark's broadcast bound for scoring ``rows`` records where a broadcast lands in ``memory_mb``:
    raised to the records' size when they take at most 1/:data:`BROADCAST_SHARE` of it, else
    nothing changed (Spark's own 10 MB: the records are shuffled)."""
    size = rows * RECORD_BYTES
    if size > memory_mb * 2**20 // BROADCAST_SHARE:
        return {}
    return {"spark.sql.autoBroadcastJoinThreshold": str(max(size, 10 * 2**20))}


def _api(spark: Any) -> Any:
    """Splink's Spark backend, its scoring step run under :data:`SCORING_CONF`."""
    from splink import SparkAPI

    if not callable(getattr(SparkAPI, "_cleanup_for_execute_sql", None)):  # a Splink without the step hook
        raise StoreError("此版本的 Splink 不受支持：请安装 pyproject.toml 中注明的版本。")

    class ScoringAPI(SparkAPI):  # type: ignore[misc]
        def _cleanup_for_execute_sql(self, table: Any, templated_name: str, physical_name: str) -> Any:
            # Splink's step runs here (the Parquet written under the checkpoint folder)
            if templated_name != SCORING_STEP:
                return super()._cleanup_for_execute_sql(table, templated_name, physical_name)
            with session_conf(spark, SCORING_CONF):
                return super()._cleanup_for_execute_sql(table, templated_name, physical_name)

    return ScoringAPI(spark_session=spark, register_udfs_automatically=False, break_lineage_method="parquet")


def _spark_sql(sql: str) -> str:
    import sqlglot
    from sqlglot.errors import SqlglotError

    from hub.store.spark_sql import to_spark

    try:
        return to_spark(sqlglot.parse_one(sql, read="duckdb"))
    except SqlglotError as exc:
        raise StoreError(f"比对模型的条件无法在 Spark 上运行：{sql}（{exc}）") from exc


def spark_settings(model: dict[str, Any]) -> dict[str, Any]:
    """``model`` (a Splink model saved on DuckDB) with its comparison levels and blocking rules in
    Spark SQL; m, u and the prior unchanged."""
    out: dict[str, Any] = json.loads(json.dumps(model))
    for comp in out.get("comparisons", []):
        for level in comp["comparison_levels"]:
            if level["sql_condition"].strip().upper() != "ELSE":
                level["sql_condition"] = _spark_sql(level["sql_condition"])
    out["blocking_rules_to_generate_predictions"] = [
        {**rule, "blocking_rule": _spark_sql(rule["blocking_rule"]), "sql_dialect": "spark"}
        for rule in out.get("blocking_rules_to_generate_predictions", [])
    ]
    out["sql_dialect"] = "spark"
    out["retain_intermediate_calculation_columns"] = True
    return out


def predict(
    engine: SparkEngine, db: Database, table: str, model: dict[str, Any], out_table: str, threshold: float
) -> int:
    """Score the blocked pairs of the store's ``table`` with ``model`` on Spark; the pairs with
    probability ≥ ``threshold`` land in the store's ``out_table`` (the columns and order of
    :func:`hub.dedupe.linkage.engine.predict`). Returns the number of pairs."""
    from splink import Linker

    logging.getLogger("splink").setLevel(logging.ERROR)
    engine.publish(db, table, None)
    records = engine.read(table)
    uid = model.get("unique_id_column_name", "uid")
    scratch = engine.warehouse / f".splink.{uuid.uuid4().hex[:8]}"
    engine.spark.sparkContext.setCheckpointDir(str(scratch))
    api = _api(engine.spark)
    before = _splink_views(engine)
    rows = int(db.scalar(f"SELECT count(*) FROM {table}"))
    bound = {} if engine.broadcast_set else records_broadcast(rows, engine.broadcast_mb)
    try:
        linker = Linker(api.register(records), spark_settings(model), log_level=None)
        with session_conf(engine.spark, bound):
            scored = linker.inference.predict(threshold_match_probability=threshold).as_spark_dataframe()
        weights = [f"`{c}`" for c in scored.columns if c.startswith("mw_")]
        pairs = scored.where(f"`{uid}_l` <> `{uid}_r`").selectExpr(
            f"least(`{uid}_l`, `{uid}_r`) AS uid_l",
            f"greatest(`{uid}_l`, `{uid}_r`) AS uid_r",
            "match_probability",
            "match_weight",
            *weights,
        )
        arrow = pairs.toArrow()
    finally:
        for name in _splink_views(engine) - before:
            engine.spark.catalog.dropTempView(name)
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(engine.warehouse / table, ignore_errors=True)  # a copy for this scoring only
    with arrow_in_store(db, arrow) as (sql, _):
        db.execute(f"CREATE OR REPLACE TABLE {out_table} AS {sql}")
    return int(db.scalar(f"SELECT count(*) FROM {out_table}"))


def _splink_views(engine: SparkEngine) -> set[str]:
    return {t.name for t in engine.spark.catalog.listTables() if t.name.startswith(SPLINK_PREFIX)}
